// Neuron-level reordered similarity (../shared/ANALYSES.md §3; the paper's static_analysis.ipynb,
// get_permute_idx): for experts a and b, the I×I cosine matrix between their neurons (rows of W_gate and
// W_up, columns of W_down); the Hungarian method matches each neuron of a to one of b, maximising the summed
// similarity; b's neurons are permuted accordingly and the flattened matrices compared by cosine. Kendall's
// τ between the matching and the identity says how far the neurons had to move (1 = not at all).
// Unlike the paper, similarities are not rounded to bf16 before matching.

import { munkres } from 'munkres';
import { readBuffer, storageBuffer, uploadStorage } from '../gpu/buffers.ts';
import type { GpuContext } from '../gpu/context.ts';
import { linear } from '../kernels/layers.ts';
import type { SwiGluMatrices } from '../model/expertMatrices.ts';
import type { Projection } from './expertSimilarity.ts';

/** Neurons of one expert's projection as rows [I, H] (W_down [H, I] is transposed). */
export function neuronRows(e: SwiGluMatrices, projection: Projection, hidden: number): Float64Array {
  const m = e[projection];
  const I = m.length / hidden;
  if (projection !== 'down') return Float64Array.from(m);
  const out = new Float64Array(I * hidden);
  for (let h = 0; h < hidden; h++) for (let i = 0; i < I; i++) out[i * hidden + h] = m[h * I + i]!;
  return out;
}

/** Kendall's τ between `order` and 0, 1, …, n−1 (a permutation has no ties: τ-a = τ-b). */
export function kendallTauWithIdentity(order: ArrayLike<number>): number {
  const n = order.length;
  if (n < 2) return 1;
  let concordant = 0;
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) if (order[j]! > order[i]!) concordant++;
  const pairs = (n * (n - 1)) / 2;
  return (2 * concordant - pairs) / pairs;
}

export interface ReorderedPair {
  similarity: number; // cosine of a's flattened matrix with b's, b's neurons permuted
  tau: number; // Kendall's τ of the permutation
  permutation: Int32Array; // neuron i of a ↔ neuron permutation[i] of b
}

/** a_i · b_j for every pair of neurons, in f64 on the CPU                                    [I, I] */
function neuronDots(a: Float64Array, b: Float64Array, hidden: number): Float64Array {
  const I = a.length / hidden;
  const dots = new Float64Array(I * I);
  for (let i = 0; i < I; i++) {
    const ai = a.subarray(i * hidden, (i + 1) * hidden);
    for (let j = 0; j < I; j++) {
      const bj = b.subarray(j * hidden, (j + 1) * hidden);
      let s = 0;
      for (let h = 0; h < hidden; h++) s += ai[h]! * bj[h]!;
      dots[i * I + j] = s;
    }
  }
  return dots;
}

/**
 * The same dot products on the GPU (the engine's tiled matmul, f32): the heavy part of the reordering
 * (I²·H multiply-adds per pair; the Hungarian matching after it is O(I³) but ~20× cheaper here).
 */
export class GpuNeuronDots {
  private readonly rows: GPUBuffer[];
  private readonly out: GPUBuffer;
  private readonly width: number; // I

  constructor(private readonly ctx: GpuContext, experts: readonly Float64Array[], private readonly hidden: number) {
    this.rows = experts.map((e, i) => uploadStorage(ctx.device, Float32Array.from(e), `expert ${i} neurons [I,H]`));
    this.width = experts[0]!.length / hidden;
    this.out = storageBuffer(ctx.device, this.width ** 2 * 4, 'neuron dots [I,I]');
  }

  async dots(a: number, b: number): Promise<Float64Array> {
    const { device } = this.ctx;
    const I = this.width;
    const encoder = device.createCommandEncoder({ label: 'neuron dots' });
    await linear(this.ctx, encoder, { x: this.rows[a]!, weight: { buffer: this.rows[b]!, dtype: 'F32' }, bias: null, y: this.out, numTokens: I, outputs: I, inputs: this.hidden });
    device.queue.submit([encoder.finish()]);
    return Float64Array.from(new Float32Array(await readBuffer(device, this.out, I * I * 4)));
  }

  destroy(): void {
    for (const b of [...this.rows, this.out]) b.destroy();
  }
}

/**
 * Match b's neurons to a's (rows [I, H] each, as from neuronRows) and compare. `dots` (a_i · b_j, [I, I])
 * may come from the GPU; the matching uses them, the similarity is recomputed in f64 from the rows.
 */
export function reorderedPair(a: Float64Array, b: Float64Array, hidden: number, dots = neuronDots(a, b, hidden)): ReorderedPair {
  const I = a.length / hidden;
  const norm = (m: Float64Array) =>
    Float64Array.from({ length: I }, (_, i) => {
      let s = 0;
      for (let h = i * hidden; h < (i + 1) * hidden; h++) s += m[h]! * m[h]!;
      return Math.sqrt(s);
    });
  const na = norm(a);
  const nb = norm(b);
  // munkres minimises cost: cost = −cosine
  const cost = Array.from({ length: I }, (_, i) => Float64Array.from({ length: I }, (_, j) => (na[i]! && nb[j]! ? -dots[i * I + j]! / (na[i]! * nb[j]!) : 0)));
  const permutation = new Int32Array(I);
  for (const [row, col] of munkres(cost)) permutation[row] = col;
  let matched = 0;
  for (let i = 0; i < I; i++) {
    const [ai, bj] = [a.subarray(i * hidden, (i + 1) * hidden), b.subarray(permutation[i]! * hidden, (permutation[i]! + 1) * hidden)];
    for (let h = 0; h < hidden; h++) matched += ai[h]! * bj[h]!;
  }
  const frob = (n: Float64Array) => Math.sqrt(n.reduce((s, x) => s + x * x, 0));
  const denominator = frob(na) * frob(nb);
  return { similarity: denominator ? matched / denominator : 0, tau: kendallTauWithIdentity(permutation), permutation };
}

/**
 * E×E reordered similarity and Kendall τ of one projection over the given experts (row-major, diagonal 1
 * as in the paper), the dot products on `gpu` when given. `onPair` reports progress after each pair.
 */
export async function reorderedSimilarity(
  experts: readonly SwiGluMatrices[],
  projection: Projection,
  hidden: number,
  gpu: GpuContext | null,
  onPair?: () => void,
): Promise<{ similarity: Float64Array; tau: Float64Array }> {
  const E = experts.length;
  const rows = experts.map((e) => neuronRows(e, projection, hidden));
  const similarity = new Float64Array(E * E);
  const tau = new Float64Array(E * E);
  const onGpu = gpu ? new GpuNeuronDots(gpu, rows, hidden) : null;
  try {
    for (let i = 0; i < E; i++) {
      similarity[i * E + i] = tau[i * E + i] = 1;
      for (let j = i + 1; j < E; j++) {
        const r = onGpu ? reorderedPair(rows[i]!, rows[j]!, hidden, await onGpu.dots(i, j)) : reorderedPair(rows[i]!, rows[j]!, hidden);
        similarity[i * E + j] = similarity[j * E + i] = r.similarity;
        tau[i * E + j] = tau[j * E + i] = r.tau;
        onPair?.();
      }
    }
  } finally {
    onGpu?.destroy();
  }
  return { similarity, tau };
}
