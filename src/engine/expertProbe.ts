// The expert probe of the dynamic analyses ("A Closer Look into MoE", §dynamic): during a prefill, every
// MoE layer also runs all of its routed experts on every token, into buffers of its own: the model still adds
// only its top-k, so its output does not change. What comes back per layer is small:
//   gram   [T, E, E]  dot products of the experts' outputs (norms on the diagonal, cosines from them)
//   states [T, E, I]  silu(W_gate x), for the layers asked for
// Tokens go through in chunks so that the [T·E, max(H, I)] scratch stays within PROBE_SCRATCH_BYTES.

import { storageBuffer } from '../gpu/buffers.ts';
import type { GpuContext } from '../gpu/context.ts';
import type { ReadPart, Recorder } from '../gpu/recorder.ts';
import { probeExperts, type ExpertBank } from '../kernels/experts.ts';

export const PROBE_SCRATCH_BYTES = 64 * 1024 * 1024;

export interface ProbeLayer {
  layer: number;
  numExperts: number;
  gram: Float32Array; // [T, E, E]
  states: Float32Array | null; // [T, E, I]
  width: number; // I
}

export class ExpertProbe {
  private readonly pool = new Map<string, GPUBuffer>();
  private readonly owned: GPUBuffer[] = [];
  private readonly written = new Set<GPUBuffer>();
  private readonly outputs: { layer: number; numExperts: number; width: number; gram: GPUBuffer; states: GPUBuffer | null }[] = [];

  constructor(
    private readonly ctx: GpuContext,
    readonly numTokens: number,
    private readonly hiddenSize: number,
    private readonly statesLayers: ReadonlySet<number>,
  ) {}

  /** A scratch buffer shared by every layer and chunk (the work is ordered inside the step). */
  private scratch(bytes: number, label: string): GPUBuffer {
    const key = `${label}:${bytes}`;
    let b = this.pool.get(key);
    if (!b) this.pool.set(key, (b = this.own(storageBuffer(this.ctx.device, bytes, `probe ${label}`))));
    return b;
  }

  private own(b: GPUBuffer): GPUBuffer {
    this.owned.push(b);
    return b;
  }

  /** Record the probe of one MoE layer over h [T, H]. */
  async record(enc: Recorder, bank: ExpertBank, h: GPUBuffer, layer: number): Promise<void> {
    const { ctx, numTokens: T, hiddenSize: H } = this;
    const E = bank.numExperts;
    const I = bank.width;
    const chunk = Math.max(1, Math.min(T, Math.floor(PROBE_SCRATCH_BYTES / (E * Math.max(H, I) * 4))));
    const gram = this.own(storageBuffer(ctx.device, T * E * E * 4, `probe gram ${layer} [T,E,E]`));
    const states = this.statesLayers.has(layer) ? this.own(storageBuffer(ctx.device, T * E * I * 4, `probe states ${layer} [T,E,I]`)) : null;
    const allExperts = this.scratch(chunk * E * 4, `all experts ${E} [chunk,E]`);
    if (!this.written.has(allExperts)) {
      ctx.device.queue.writeBuffer(allExperts, 0, Uint32Array.from({ length: chunk * E }, (_, i) => i % E)); // 0 … E−1 per token
      this.written.add(allExperts);
    }
    for (let t0 = 0; t0 < T; t0 += chunk) {
      const n = Math.min(chunk, T - t0);
      const whole = n === T;
      const x = whole ? h : this.scratch(chunk * H * 4, 'x chunk [chunk,H]');
      if (!whole) enc.copyBufferToBuffer(h, t0 * H * 4, x, 0, n * H * 4);
      const gramChunk = whole ? gram : this.scratch(chunk * E * E * 4, `gram chunk ${E}`);
      const statesChunk = !states ? null : whole ? states : this.scratch(chunk * E * I * 4, `states chunk ${E}x${I}`);
      await probeExperts(ctx, enc, {
        bank, x, allExperts, numTokens: n, hiddenSize: H, gram: gramChunk, states: statesChunk,
        alloc: (bytes, label) => this.scratch(bytes, label),
      });
      if (!whole) {
        enc.copyBufferToBuffer(gramChunk, 0, gram, t0 * E * E * 4, n * E * E * 4);
        if (states && statesChunk) enc.copyBufferToBuffer(statesChunk, 0, states, t0 * E * I * 4, n * E * I * 4);
      }
    }
    this.outputs.push({ layer, numExperts: E, width: I, gram, states });
  }

  /** What the step reads back for the probe, in the order parse() takes it. */
  readParts(): ReadPart[] {
    const T = this.numTokens;
    return this.outputs.flatMap((o) => [
      { buffer: o.gram, bytes: T * o.numExperts * o.numExperts * 4 },
      ...(o.states ? [{ buffer: o.states, bytes: T * o.numExperts * o.width * 4 }] : []),
    ]);
  }

  parse(parts: ArrayBuffer[]): ProbeLayer[] {
    return this.outputs.map((o) => ({
      layer: o.layer,
      numExperts: o.numExperts,
      width: o.width,
      gram: new Float32Array(parts.shift()!),
      states: o.states ? new Float32Array(parts.shift()!) : null,
    }));
  }

  destroy(): void {
    for (const b of this.owned) b.destroy();
  }
}
