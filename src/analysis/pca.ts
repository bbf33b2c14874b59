// PCA of experts and of neurons (../shared/ANALYSES.md §5; the paper's static_analysis.ipynb): the data's
// columns are z-scored (mean 0, unbiased std 1, as torch.std) and projected onto the leading principal
// components.
//   experts: one row per expert, its flattened matrix (W_down transposed first)      [E, I·H]
//   neurons: one row per neuron of every expert (rows of W_gate/W_up, columns of W_down) [E·I, H]
// A component's sign is arbitrary; here the point farthest along it is on its positive side.

import type { SwiGluMatrices } from '../model/expertMatrices.ts';
import type { Projection } from './expertSimilarity.ts';
import { neuronRows } from './reorderedSimilarity.ts';

/** Eigen-decomposition of a small symmetric n×n matrix (cyclic Jacobi): values descending, vectors as columns. */
export function symmetricEigen(matrix: Float64Array, n: number): { values: Float64Array; vectors: Float64Array } {
  const a = Float64Array.from(matrix);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    let total = 0;
    for (let i = 0; i < n * n; i++) total += a[i]! ** 2;
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (i !== j) off += a[i * n + j]! ** 2;
    if (off <= 1e-30 * total) break;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q]!;
        if (apq === 0) continue;
        const theta = (a[q * n + q]! - a[p * n + p]!) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k * n + p]!;
          const akq = a[k * n + q]!;
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k]!;
          const aqk = a[q * n + k]!;
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p]!;
          const vkq = v[k * n + q]!;
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => a[y * n + y]! - a[x * n + x]!);
  const values = Float64Array.from(order, (i) => a[i * n + i]!);
  const vectors = new Float64Array(n * n);
  order.forEach((from, to) => {
    for (let k = 0; k < n; k++) vectors[k * n + to] = v[k * n + from]!;
  });
  return { values, vectors };
}

/** Orthonormalise the m columns of q [n, m] in place (modified Gram–Schmidt, twice for stability). */
function orthonormalise(q: Float64Array, n: number, m: number): void {
  for (let pass = 0; pass < 2; pass++) {
    for (let c = 0; c < m; c++) {
      for (let p = 0; p < c; p++) {
        let dot = 0;
        for (let i = 0; i < n; i++) dot += q[i * m + c]! * q[i * m + p]!;
        for (let i = 0; i < n; i++) q[i * m + c] = q[i * m + c]! - dot * q[i * m + p]!;
      }
      let norm = 0;
      for (let i = 0; i < n; i++) norm += q[i * m + c]! ** 2;
      norm = Math.sqrt(norm) || 1;
      for (let i = 0; i < n; i++) q[i * m + c] = q[i * m + c]! / norm;
    }
  }
}

/**
 * The k leading eigenpairs of a symmetric positive semi-definite n×n matrix: Jacobi when small, else
 * subspace iteration on k + 12 vectors with Rayleigh–Ritz until the Ritz vectors stop moving.
 * Vectors come back as k columns of an [n, k] matrix.
 */
export function leadingEigen(matrix: Float64Array, n: number, k: number): { values: number[]; vectors: Float64Array } {
  const pick = (values: Float64Array, vectors: Float64Array, width: number, rows: number) => ({
    values: Array.from(values.subarray(0, k)),
    vectors: Float64Array.from({ length: rows * k }, (_, i) => vectors[Math.floor(i / k) * width + (i % k)]!),
  });
  if (n <= 96) {
    const { values, vectors } = symmetricEigen(matrix, n);
    return pick(values, vectors, n, n);
  }
  const m = Math.min(n, k + 12);
  let q = new Float64Array(n * m);
  let seed = 12345;
  for (let i = 0; i < q.length; i++) q[i] = (seed = (seed * 16807) % 2147483647) / 2147483647 - 0.5;
  orthonormalise(q, n, m);
  const multiply = (x: Float64Array) => {
    const y = new Float64Array(n * m); // A x   [n, m]
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        const aij = matrix[i * n + j]!;
        if (aij === 0) continue;
        for (let c = 0; c < m; c++) y[i * m + c] = y[i * m + c]! + aij * x[j * m + c]!;
      }
    }
    return y;
  };
  let previous = new Float64Array(k);
  for (let iteration = 0; iteration < 5000; iteration++) {
    const aq = multiply(q);
    // Rayleigh–Ritz: B = Qᵀ A Q, rotate Q onto B's eigenvectors
    const b = new Float64Array(m * m);
    for (let r = 0; r < m; r++) for (let c = 0; c < m; c++) for (let i = 0; i < n; i++) b[r * m + c] = b[r * m + c]! + q[i * m + r]! * aq[i * m + c]!;
    const { values, vectors } = symmetricEigen(b, m);
    const rotated = new Float64Array(n * m);
    for (let i = 0; i < n; i++) for (let c = 0; c < m; c++) for (let r = 0; r < m; r++) rotated[i * m + c] = rotated[i * m + c]! + aq[i * m + r]! * vectors[r * m + c]!;
    const change = Math.max(...Array.from({ length: k }, (_, c) => Math.abs(values[c]! - previous[c]!) / Math.max(1e-300, Math.abs(values[c]!))));
    previous = values.slice(0, k);
    if (change < 1e-15 || iteration === 4999) {
      const ritz = new Float64Array(n * m);
      for (let i = 0; i < n; i++) for (let c = 0; c < m; c++) for (let r = 0; r < m; r++) ritz[i * m + c] = ritz[i * m + c]! + q[i * m + r]! * vectors[r * m + c]!;
      return pick(values, ritz, m, n);
    }
    orthonormalise(rotated, n, m);
    q = rotated;
  }
  throw new Error('unreachable');
}

export interface Projected {
  points: number[][]; // [N, k]
  /** Share of the total variance each component explains. */
  explained: number[];
  /** Which expert each point belongs to. */
  expert: number[];
}

/** Flip each column of points [N, k] so that its largest-magnitude entry is positive. */
function fixSigns(points: number[][], k: number): void {
  for (let c = 0; c < k; c++) {
    let best = 0;
    for (const p of points) if (Math.abs(p[c]!) > Math.abs(best)) best = p[c]!;
    if (best < 0) for (const p of points) p[c] = -p[c]!;
  }
}

const trace = (m: Float64Array, n: number) => Array.from({ length: n }, (_, i) => m[i * n + i]!).reduce((a, b) => a + b, 0);

/** Column mean and unbiased standard deviation (constant columns: std 1, so they become 0). */
function columnScale(column: Float64Array): { mean: number; std: number } {
  const n = column.length;
  const mean = column.reduce((a, b) => a + b, 0) / n;
  const variance = column.reduce((a, x) => a + (x - mean) ** 2, 0) / Math.max(1, n - 1);
  return { mean, std: variance > 0 ? Math.sqrt(variance) : 1 };
}

/** Experts' flattened matrices of one projection, z-scored per column, onto k components. */
export function expertPca(experts: readonly SwiGluMatrices[], projection: Projection, hidden: number, k = 2): Projected {
  const E = experts.length;
  const rows = experts.map((e) => (projection === 'down' ? neuronRows(e, projection, hidden) : e[projection]));
  const D = rows[0]!.length;
  // Gram matrix of the z-scored rows, one column at a time (never the whole z-scored matrix)   [E, E]
  const gram = new Float64Array(E * E);
  const column = new Float64Array(E);
  for (let d = 0; d < D; d++) {
    for (let e = 0; e < E; e++) column[e] = rows[e]![d]!;
    const { mean, std } = columnScale(column);
    for (let e = 0; e < E; e++) column[e] = (column[e]! - mean) / std;
    for (let i = 0; i < E; i++) for (let j = 0; j <= i; j++) gram[i * E + j] = gram[i * E + j]! + column[i]! * column[j]!;
  }
  for (let i = 0; i < E; i++) for (let j = 0; j < i; j++) gram[j * E + i] = gram[i * E + j]!;
  // Z = U Σ Vᵀ, Z Zᵀ = U Σ² Uᵀ: the projections Z V = U Σ
  const { values, vectors } = leadingEigen(gram, E, k);
  const total = trace(gram, E);
  const points = Array.from({ length: E }, (_, e) => Array.from({ length: k }, (_, c) => vectors[e * k + c]! * Math.sqrt(Math.max(0, values[c]!))));
  fixSigns(points, k);
  return { points, explained: values.map((v) => v / total), expert: Array.from({ length: E }, (_, e) => e) };
}

/** Neurons kept for the neuron PCA: every one up to this many, else an even stride through them. */
export const MAX_PCA_NEURONS = 8192;

/** All neurons of all experts of one projection, z-scored per hidden dimension, onto k components. */
export function neuronPca(experts: readonly SwiGluMatrices[], projection: Projection, hidden: number, k = 2): Projected {
  const H = hidden;
  const all = experts.map((e) => neuronRows(e, projection, H));
  const I = all[0]!.length / H;
  const total = experts.length * I;
  const stride = Math.ceil(total / MAX_PCA_NEURONS);
  const kept = Array.from({ length: Math.ceil(total / stride) }, (_, n) => n * stride);
  const N = kept.length;
  const z = new Float64Array(N * H); // [N, H]
  kept.forEach((neuron, n) => z.set(all[Math.floor(neuron / I)]!.subarray((neuron % I) * H, (neuron % I + 1) * H), n * H));
  const column = new Float64Array(N);
  for (let h = 0; h < H; h++) {
    for (let n = 0; n < N; n++) column[n] = z[n * H + h]!;
    const { mean, std } = columnScale(column);
    for (let n = 0; n < N; n++) z[n * H + h] = (column[n]! - mean) / std;
  }
  // covariance Zᵀ Z                                                                  [H, H]
  const cov = new Float64Array(H * H);
  for (let n = 0; n < N; n++) {
    const row = z.subarray(n * H, (n + 1) * H);
    for (let i = 0; i < H; i++) {
      const ri = row[i]!;
      for (let j = 0; j <= i; j++) cov[i * H + j] = cov[i * H + j]! + ri * row[j]!;
    }
  }
  for (let i = 0; i < H; i++) for (let j = 0; j < i; j++) cov[j * H + i] = cov[i * H + j]!;
  const { values, vectors } = leadingEigen(cov, H, k);
  const variance = trace(cov, H);
  const points = kept.map((_, n) => {
    const row = z.subarray(n * H, (n + 1) * H);
    return Array.from({ length: k }, (_, c) => {
      let s = 0;
      for (let h = 0; h < H; h++) s += row[h]! * vectors[h * k + c]!;
      return s;
    });
  });
  fixSigns(points, k);
  return { points, explained: values.map((v) => v / variance), expert: kept.map((neuron) => Math.floor(neuron / I)) };
}
