// Static analyses from the weights (../shared/ANALYSES.md §1, §2, §4), after "A Closer Look into
// Mixture-of-Experts in Large Language Models" (Lo et al., 2024). Plain TS over f32 matrices; E×E
// results as row-major Float64Array.
//   matrix level:   cosine between experts' flattened W_gate / W_up / W_down
//   neuron average: each expert's matrix averaged over its neurons (rows of W_gate and W_up, columns of
//                   W_down) to one H-vector; cosine between those
//   router:         cosine between the router's rows, and r² of the least-squares line of router
//                   similarity on neuron-averaged expert similarity over the lower triangle

import type { SwiGluMatrices as ExpertMatrices } from '../model/expertMatrices.ts';

export type Projection = 'gate' | 'up' | 'down';
export const PROJECTIONS: readonly Projection[] = ['gate', 'up', 'down'];

function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  return na > 0 && nb > 0 ? dot / Math.sqrt(na * nb) : 0;
}

/** E×E cosine similarity between vectors. */
export function cosineMatrix(vectors: readonly ArrayLike<number>[]): Float64Array {
  const E = vectors.length;
  const out = new Float64Array(E * E);
  for (let i = 0; i < E; i++) {
    for (let j = 0; j <= i; j++) {
      const c = i === j ? 1 : cosine(vectors[i]!, vectors[j]!);
      out[i * E + j] = c;
      out[j * E + i] = c;
    }
  }
  return out;
}

export function matrixSimilarity(experts: readonly ExpertMatrices[], projection: Projection): Float64Array {
  return cosineMatrix(experts.map((e) => e[projection]));
}

/** Mean over neurons: rows of gate/up [I, H], columns of down [H, I]; an H-vector either way. */
export function neuronAverage(e: ExpertMatrices, projection: Projection, hidden: number): Float64Array {
  const m = e[projection];
  const I = m.length / hidden;
  const out = new Float64Array(hidden);
  if (projection === 'down') {
    for (let h = 0; h < hidden; h++) {
      let s = 0;
      for (let i = 0; i < I; i++) s += m[h * I + i]!;
      out[h] = s / I;
    }
  } else {
    for (let i = 0; i < I; i++) for (let h = 0; h < hidden; h++) out[h] = out[h]! + m[i * hidden + h]! / I;
  }
  return out;
}

export function neuronAveragedSimilarity(experts: readonly ExpertMatrices[], projection: Projection, hidden: number): Float64Array {
  return cosineMatrix(experts.map((e) => neuronAverage(e, projection, hidden)));
}

/** Rows of the router [E, H] compared with each other. */
export function routerSimilarity(router: Float32Array, numExperts: number): Float64Array {
  const H = router.length / numExperts;
  return cosineMatrix(Array.from({ length: numExperts }, (_, e) => router.subarray(e * H, (e + 1) * H)));
}

/** r² of the least-squares fit y ≈ a·x + b over the strict lower triangle of two E×E matrices. */
export function lowerTriangleR2(x: Float64Array, y: Float64Array, E: number): number {
  const xs: number[] = [];
  const ys: number[] = [];
  for (let i = 1; i < E; i++) for (let j = 0; j < i; j++) (xs.push(x[i * E + j]!), ys.push(y[i * E + j]!));
  const n = xs.length;
  if (n < 2) return 0;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let k = 0; k < n; k++) {
    sxy += (xs[k]! - mx) * (ys[k]! - my);
    sxx += (xs[k]! - mx) ** 2;
    syy += (ys[k]! - my) ** 2;
  }
  return sxx > 0 && syy > 0 ? (sxy * sxy) / (sxx * syy) : 0;
}
