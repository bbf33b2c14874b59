// GPU timestamp instruments a Recorder writes into: the Profiler (every dispatch in a pass of its own,
// timed per kernel) and the StepTimer (a step's passes as they run, timed per step).

/** Per-kernel GPU time from timestamp queries (needs the adapter's timestamp-query feature). */
export class Profiler {
  readonly labels: string[] = [];
  /** Per kind of step: nanoseconds and dispatches per kernel label, summed over steps; and the step count. */
  readonly totals = new Map<string, { steps: number; kernels: Map<string, { ns: number; count: number }> }>();
  private readonly querySet: GPUQuerySet;
  private readonly resolve: GPUBuffer;
  constructor(
    device: GPUDevice,
    readonly capacity = 2048, // dispatches per step: 4,096 timestamps, the most a query set holds
    /** Label each dispatch with its workgroup grid too, so that one kernel's sizes are timed apart. */
    readonly byGrid = false,
  ) {
    this.querySet = device.createQuerySet({ type: 'timestamp', count: capacity * 2 });
    this.resolve = device.createBuffer({ size: capacity * 16, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
  }

  static supported(device: GPUDevice): boolean {
    return device.features.has('timestamp-query');
  }

  timestampWrites(label: string): GPUComputePassTimestampWrites | undefined {
    const i = this.labels.length;
    if (i >= this.capacity) return undefined;
    this.labels.push(label);
    return { querySet: this.querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 };
  }

  /** Encode the resolve; returns the buffer and byte count to read back. */
  finish(encoder: GPUCommandEncoder): { buffer: GPUBuffer; bytes: number } {
    const n = this.labels.length;
    if (n > 0) encoder.resolveQuerySet(this.querySet, 0, 2 * n, this.resolve, 0);
    return { buffer: this.resolve, bytes: Math.max(16, n * 16) };
  }

  /** Add one step's resolved timestamps to the totals of `kind`, and start the next step's labels. */
  record(kind: string, resolved: ArrayBuffer): void {
    const t = new BigUint64Array(resolved);
    let entry = this.totals.get(kind);
    if (!entry) this.totals.set(kind, (entry = { steps: 0, kernels: new Map() }));
    entry.steps++;
    this.labels.forEach((label, i) => {
      const ns = Number(t[2 * i + 1]! - t[2 * i]!);
      const e = entry.kernels.get(label) ?? { ns: 0, count: 0 };
      e.ns += ns;
      e.count++;
      entry.kernels.set(label, e);
    });
    this.labels.length = 0;
  }

  destroy(): void {
    this.querySet.destroy();
    this.resolve.destroy();
  }
}

/**
 * A step's GPU time from two timestamps per compute pass (needs timestamp-query): from the start of its
 * first pass to the end of its last, and the sum of its passes. Unlike the Profiler it leaves the step
 * as it runs (one pass for a decode step, replayed or not), so it shows whether the GPU or the host
 * sets the pace. (Dawn rounds timestamps to ~65 µs unless its timestamp_quantization toggle is off, so
 * single steps are coarse; averages over steps are not.)
 */
export class StepTimer {
  static readonly MAX_PASSES = 512;
  readonly querySet: GPUQuerySet;
  readonly resolve: GPUBuffer;
  /**
   * Per kind of step, in the order recorded: GPU microseconds per step (first pass start to last pass
   * end), busy in passes, and the GPU's idle time since the previous step of that kind ended: before
   * every step, and before the steps that replayed a learned recording (Recorder.replay), whose host side
   * is the steady state's.
   */
  readonly steps = new Map<string, { spanUs: number[]; busyUs: number[]; gapUs: number[]; replayedGapUs: number[] }>();
  private readonly lastEnd = new Map<string, bigint>();

  constructor(device: GPUDevice) {
    this.querySet = device.createQuerySet({ type: 'timestamp', count: 2 * StepTimer.MAX_PASSES });
    this.resolve = device.createBuffer({ size: 16 * StepTimer.MAX_PASSES, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
  }

  /** The timestamp writes of a step's pass number `pass` (none past MAX_PASSES: see record). */
  writes(pass: number): GPUComputePassTimestampWrites | undefined {
    return pass < StepTimer.MAX_PASSES ? { querySet: this.querySet, beginningOfPassWriteIndex: 2 * pass, endOfPassWriteIndex: 2 * pass + 1 } : undefined;
  }

  /** Add one step's resolved timestamps (its `passes` passes) to `kind`; `replayed`: whether the step replayed. */
  record(kind: string, resolved: ArrayBuffer, passes: number, replayed = false): void {
    if (passes === 0 || passes > StepTimer.MAX_PASSES) return;
    const t = new BigUint64Array(resolved);
    let busy = 0n;
    for (let i = 0; i < passes; i++) busy += t[2 * i + 1]! - t[2 * i]!;
    let entry = this.steps.get(kind);
    if (!entry) this.steps.set(kind, (entry = { spanUs: [], busyUs: [], gapUs: [], replayedGapUs: [] }));
    entry.spanUs.push(Number(t[2 * passes - 1]! - t[0]!) / 1000);
    entry.busyUs.push(Number(busy) / 1000);
    const previous = this.lastEnd.get(kind);
    if (previous !== undefined) {
      const gap = Number(t[0]! - previous) / 1000;
      entry.gapUs.push(gap);
      if (replayed) entry.replayedGapUs.push(gap);
    }
    this.lastEnd.set(kind, t[2 * passes - 1]!);
  }

  destroy(): void {
    this.querySet.destroy();
    this.resolve.destroy();
  }
}
