// Where a step's routing lands: every MoE layer's router logits, expert ids and combine weights side by
// side in three buffers, one range per layer, so that the step reads them back in three copies instead
// of three per layer. (A small copy cost the host ~3 µs to record and the GPU ~1.8 µs on an H100;
// granite's 72 per decode step were ~10% of the step.) A prefill, submitted layer by layer, reads
// consecutive layers' ranges in a few chunks as they finish instead (readLayersNow), so that the host
// turns them into trace rows while the GPU runs the later layers.

import type { Recorder, ReadPart } from '../gpu/recorder.ts';
import { storageSize } from '../gpu/buffers.ts';

/** Which MoE layer routed, over how many experts: its rows are the arena's j-th range. */
export interface LayerRouting {
  layer: number;
  numExperts: number;
  topK: number;
}

/** One MoE layer's part of the arena: ranges kernels bind, and where they start (bytes). */
export interface LayerRoutingRanges {
  routerLogits: GPUBufferBinding; // [T, E] f32
  expertIds: GPUBufferBinding; // [T, k] u32, rank order
  weights: GPUBufferBinding; // [T, k] f32 combine weights
}

/** What one MoE layer's router did for the T tokens of a step, read back from the arena. */
export interface LayerRoutingRows extends LayerRouting {
  routerLogits: Float32Array; // [T, E]
  expertIds: Uint32Array; // [T, k]
  weights: Float32Array; // [T, k]
}

export class RoutingArena {
  private readonly logits: GPUBuffer;
  private readonly ids: GPUBuffer;
  private readonly weights: GPUBuffer;
  private readonly ranges: LayerRoutingRanges[] = [];
  private readonly bytes: [number, number, number];

  /** `layers`: the MoE layers in order, with their expert counts and top-k; ranges start on `alignment` bytes. */
  constructor(
    enc: Recorder,
    readonly layers: readonly LayerRouting[],
    private readonly numTokens: number,
    alignment: number,
  ) {
    const align = (n: number) => Math.ceil(n / alignment) * alignment;
    const at = [0, 0, 0];
    const offsets = layers.map(({ numExperts, topK }) => {
      const sizes = [numExperts, topK, topK].map((width) => storageSize(numTokens * width * 4));
      const start = [...at];
      sizes.forEach((size, i) => (at[i] = align(at[i]! + size)));
      return { start, sizes };
    });
    this.bytes = [at[0]!, at[1]!, at[2]!];
    this.logits = enc.storage(Math.max(16, this.bytes[0]), 'router logits, every MoE layer');
    this.ids = enc.storage(Math.max(16, this.bytes[1]), 'expert ids, every MoE layer');
    this.weights = enc.storage(Math.max(16, this.bytes[2]), 'combine weights, every MoE layer');
    for (const { start, sizes } of offsets) {
      this.ranges.push({
        routerLogits: { buffer: this.logits, offset: start[0]!, size: sizes[0]! },
        expertIds: { buffer: this.ids, offset: start[1]!, size: sizes[1]! },
        weights: { buffer: this.weights, offset: start[2]!, size: sizes[2]! },
      });
    }
  }

  /** Chunks of MoE layers read as soon as they ran (readLayersNow), in layer order: each chunk's rows. */
  private readonly earlyReads: Promise<LayerRoutingRows[]>[] = [];
  private readEarlyUpTo = 0; // MoE layers read early so far

  /**
   * Read MoE layers readEarlyUpTo … end − 1 now, in one copy per buffer (a layer's ranges follow the
   * previous layer's), behind the work submitted so far (Recorder.readBackNow): a step submitted layer
   * by layer reads its routing in chunks while later layers run. Read every layer this way, or none
   * (then the step's readback takes readParts()).
   */
  readLayersNow(enc: Recorder, end: number): void {
    const begin = this.readEarlyUpTo;
    if (end <= begin || end > this.ranges.length) throw new RangeError(`routing arena: MoE layers ${begin}..${end - 1} to read early (it holds ${this.ranges.length})`);
    const first = this.ranges[begin]!;
    const last = this.ranges[end - 1]!;
    const span = (a: GPUBufferBinding, b: GPUBufferBinding): ReadPart => ({ buffer: a.buffer, offset: a.offset ?? 0, bytes: (b.offset ?? 0) + (b.size ?? 0) - (a.offset ?? 0) });
    const parts = [span(first.routerLogits, last.routerLogits), span(first.expertIds, last.expertIds), span(first.weights, last.weights)];
    const reading = enc.readBackNow(parts, this.earlyReads.length);
    const starts = parts.map((p) => p.offset ?? 0);
    this.earlyReads.push(
      reading.read().then((buffers) =>
        this.ranges.slice(begin, end).map((r, i) => {
          const at = (range: GPUBufferBinding, k: number) => (range.offset ?? 0) - starts[k]!;
          return this.rows(begin + i, buffers, [at(r.routerLogits, 0), at(r.expertIds, 1), at(r.weights, 2)]);
        }),
      ),
    );
    this.readEarlyUpTo = end;
  }

  /** The ranges of the j-th MoE layer. */
  layer(j: number): LayerRoutingRanges {
    const r = this.ranges[j];
    if (!r) throw new RangeError(`routing arena: no MoE layer ${j} (it holds ${this.ranges.length})`);
    return r;
  }

  /** What the step reads back: the three buffers whole (none without MoE layers, or when read early). */
  readParts(): ReadPart[] {
    if (this.ranges.length === 0 || this.earlyReads.length > 0) return [];
    return [
      { buffer: this.logits, bytes: this.bytes[0] },
      { buffer: this.ids, bytes: this.bytes[1] },
      { buffer: this.weights, bytes: this.bytes[2] },
    ];
  }

  /** The chunks read early (readLayersNow), or null when the step reads its routing with readParts(). */
  early(): Promise<LayerRoutingRows[]>[] | null {
    if (this.earlyReads.length === 0) return null;
    if (this.readEarlyUpTo !== this.ranges.length) throw new Error(`routing arena: ${this.readEarlyUpTo} of ${this.ranges.length} MoE layers were read early`);
    return this.earlyReads;
  }

  /** Take what readParts() read back off the front of `parts`; each MoE layer's rows (views of it). */
  parse(parts: ArrayBuffer[]): LayerRoutingRows[] {
    if (this.ranges.length === 0 || this.earlyReads.length > 0) return [];
    const whole = parts.splice(0, 3);
    return this.ranges.map((r, j) => this.rows(j, whole, [r.routerLogits.offset ?? 0, r.expertIds.offset ?? 0, r.weights.offset ?? 0]));
  }

  /** Layer j's rows as views of its logits, ids and weights, starting at these byte offsets of each. */
  private rows(j: number, [logits, ids, weights]: ArrayBuffer[], [a, b, c]: readonly [number, number, number]): LayerRoutingRows {
    const { numExperts: E, topK: k } = this.layers[j]!;
    const T = this.numTokens;
    return {
      ...this.layers[j]!,
      routerLogits: new Float32Array(logits!, a, T * E),
      expertIds: new Uint32Array(ids!, b, T * k),
      weights: new Float32Array(weights!, c, T * k),
    };
  }
}
