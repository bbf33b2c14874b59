// Records one step of GPU work (a forward pass, its sampling, its readback) into one command buffer.
//
// What it saves over plain encoder use, all of which a decode step otherwise pays per dispatch:
// - dispatches share one compute pass (WebGPU orders and synchronises dispatches inside a pass); copies
//   and clears close it;
// - the Params uniform, the bind group and every scratch buffer of the n-th dispatch/allocation come from
//   a RecordingCache keyed by that position, so a step recorded again allocates nothing and rewrites only
//   the uniforms whose bytes changed;
// - everything the host reads goes into one staging buffer: one map per step.
// With a Profiler, each dispatch gets its own pass with timestamp writes instead (for per-kernel timings).

import { storageBuffer } from './buffers.ts';
import type { GpuContext } from './context.ts';

interface DispatchSlot {
  params: GPUBuffer;
  /** What params holds (once written). */
  bytes: Uint8Array<ArrayBuffer>;
  written: boolean;
  pipeline: GPUComputePipeline | null;
  buffers: readonly GPUBuffer[];
  group: GPUBindGroup | null;
}

/** What a repeated step reuses: one slot per dispatch and per allocation, in recording order. */
export class RecordingCache {
  readonly dispatches: DispatchSlot[] = [];
  readonly allocations: GPUBuffer[] = [];
  staging: GPUBuffer | null = null;

  destroy(): void {
    for (const s of this.dispatches) s.params.destroy();
    for (const b of this.allocations) b.destroy();
    this.staging?.destroy();
    this.dispatches.length = 0;
    this.allocations.length = 0;
    this.staging = null;
  }
}

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

export interface ReadPart {
  buffer: GPUBuffer;
  bytes: number;
}

export class Recorder {
  readonly encoder: GPUCommandEncoder;
  private pass: GPUComputePassEncoder | null = null;
  private dispatchIndex = 0;
  private allocationIndex = 0;

  constructor(
    readonly ctx: GpuContext,
    private readonly cache: RecordingCache,
    readonly profiler: Profiler | null = null,
    label = 'step',
  ) {
    this.encoder = ctx.device.createCommandEncoder({ label });
  }

  /** A storage buffer that lives as long as the cache: the same one each time this step is recorded. */
  storage(bytes: number, label: string): GPUBuffer {
    const i = this.allocationIndex++;
    const size = Math.max(4, Math.ceil(bytes / 4) * 4);
    const cached = this.cache.allocations[i];
    if (cached && cached.size === size) return cached;
    cached?.destroy();
    const fresh = storageBuffer(this.ctx.device, size, label);
    this.cache.allocations[i] = fresh;
    return fresh;
  }

  /** Record one dispatch; the params `bytes` are read during the call only (the slot keeps its own copy). */
  dispatch(pipeline: GPUComputePipeline, bytes: Uint8Array, buffers: readonly GPUBuffer[], grid: readonly [number, number, number], label: string): void {
    const { device } = this.ctx;
    const i = this.dispatchIndex++;
    let slot = this.cache.dispatches[i];
    if (!slot || slot.bytes.byteLength !== bytes.byteLength) {
      slot?.params.destroy();
      const buffer = device.createBuffer({ label: `params ${label}`, size: bytes.byteLength, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
      slot = { params: buffer, bytes: new Uint8Array(bytes.byteLength), written: false, pipeline: null, buffers: [], group: null };
      this.cache.dispatches[i] = slot;
    }
    if (!slot.written || !sameBytes(slot.bytes, bytes)) {
      slot.bytes.set(bytes);
      device.queue.writeBuffer(slot.params, 0, slot.bytes);
      slot.written = true;
    }
    if (!slot.group || slot.pipeline !== pipeline || !sameBuffers(slot.buffers, buffers)) {
      slot.group = device.createBindGroup({
        layout: pipeline.getBindGroupLayout(0),
        entries: [{ binding: 0, resource: { buffer: slot.params } }, ...buffers.map((buffer, b) => ({ binding: b + 1, resource: { buffer } }))],
      });
      slot.pipeline = pipeline;
      slot.buffers = [...buffers];
    }
    const pass = this.computePass(label);
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, slot.group);
    pass.dispatchWorkgroups(...grid);
    if (this.profiler) this.endPass();
  }

  copyBufferToBuffer(source: GPUBuffer, sourceOffset: number, destination: GPUBuffer, destinationOffset: number, size: number): void {
    this.endPass();
    this.encoder.copyBufferToBuffer(source, sourceOffset, destination, destinationOffset, size);
  }

  clearBuffer(buffer: GPUBuffer): void {
    this.endPass();
    this.encoder.clearBuffer(buffer);
  }

  /**
   * Copy `parts` into the step's staging buffer; after the step is submitted, `read()` maps it once and
   * returns each part's bytes (copies: the staging buffer is reused by the next step).
   */
  readBack(parts: readonly ReadPart[]): { read(): Promise<ArrayBuffer[]> } {
    this.endPass();
    const offsets: number[] = [];
    let total = 0;
    for (const p of parts) {
      offsets.push(total);
      total += Math.ceil(p.bytes / 4) * 4;
    }
    total = Math.max(total, 4);
    if (!this.cache.staging || this.cache.staging.size < total) {
      this.cache.staging?.destroy();
      this.cache.staging = this.ctx.device.createBuffer({ label: 'step readback', size: total, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    }
    const staging = this.cache.staging;
    parts.forEach((p, i) => this.encoder.copyBufferToBuffer(p.buffer, 0, staging, offsets[i]!, Math.ceil(p.bytes / 4) * 4));
    return {
      async read() {
        await staging.mapAsync(GPUMapMode.READ, 0, total);
        const mapped = staging.getMappedRange(0, total);
        const out = parts.map((p, i) => mapped.slice(offsets[i]!, offsets[i]! + p.bytes));
        staging.unmap();
        return out;
      },
    };
  }

  finish(): GPUCommandBuffer {
    this.endPass();
    return this.encoder.finish();
  }

  private computePass(label: string): GPUComputePassEncoder {
    if (this.pass) return this.pass;
    const timestampWrites = this.profiler?.timestampWrites(label);
    this.pass = this.encoder.beginComputePass(timestampWrites ? { label, timestampWrites } : { label: 'step kernels' });
    return this.pass;
  }

  private endPass(): void {
    this.pass?.end();
    this.pass = null;
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

function sameBuffers(a: readonly GPUBuffer[], b: readonly GPUBuffer[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Where kernels record: a plain command encoder (tests, one-off work) or a step Recorder. */
export type Encoder = GPUCommandEncoder | Recorder;

/** A kernel's output buffer: from the recorder's cache when recording a step, else a fresh one (caller frees). */
export function allocate(ctx: GpuContext, enc: Encoder, bytes: number, label: string): GPUBuffer {
  return enc instanceof Recorder ? enc.storage(bytes, label) : storageBuffer(ctx.device, bytes, label);
}
