// Load balance of one MoE layer over a trace (../shared/ANALYSES.md §13): assignments per expert, their
// share, coefficient of variation, the auxiliary load-balancing loss E·Σ f_i·P_i (Switch/Mixtral's
// load_balancing_loss_func, f_i = assignments_i / tokens, P_i = mean router probability), and the mean
// router entropy in nats, also divided by log E.

export interface LoadStats {
  counts: number[]; // [E] (token, slot) assignments
  shares: number[]; // [E] counts / (tokens · k)
  coefficientOfVariation: number; // population std / mean of counts
  auxLoss: number;
  entropy: number; // mean over tokens, nats
  normalizedEntropy: number; // entropy / log E
  tokens: number;
}

export function softmaxRow(row: readonly number[]): number[] {
  let max = -Infinity;
  for (const x of row) max = Math.max(max, x);
  const e = row.map((x) => Math.exp(x - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / sum);
}

export function loadStats(experts: readonly number[][], routerLogits: readonly number[][], numExperts: number): LoadStats {
  const E = numExperts;
  const T = experts.length;
  const counts = new Array<number>(E).fill(0);
  for (const row of experts) for (const e of row) counts[e] = (counts[e] ?? 0) + 1;
  const assignments = counts.reduce((a, b) => a + b, 0);
  const mean = assignments / E;
  const variance = counts.reduce((a, c) => a + (c - mean) ** 2, 0) / E;
  const meanProb = new Array<number>(E).fill(0);
  let entropy = 0;
  for (const logits of routerLogits) {
    const p = softmaxRow(logits);
    p.forEach((x, i) => (meanProb[i] = meanProb[i]! + x / T));
    entropy -= p.reduce((a, x) => a + (x > 0 ? x * Math.log(x) : 0), 0) / T;
  }
  return {
    counts,
    shares: counts.map((c) => (assignments ? c / assignments : 0)),
    coefficientOfVariation: mean ? Math.sqrt(variance) / mean : 0,
    auxLoss: T ? E * counts.reduce((a, c, i) => a + (c / T) * meanProb[i]!, 0) : 0,
    entropy,
    normalizedEntropy: E > 1 ? entropy / Math.log(E) : 0,
    tokens: T,
  };
}
