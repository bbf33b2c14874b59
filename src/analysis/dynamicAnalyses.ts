// Dynamic analyses from the expert probe (../shared/ANALYSES.md §6–8; the paper's dynamic_analysis.ipynb):
// every expert's output on the real residual stream, summarised per token by the Gram matrix of the
// outputs (gram[t, i, j] = out_i · out_j; the engine's ExpertProbe computes it on the GPU).
//   §6 expert-output similarity: cosine per token, as angular similarity 1 − arccos(cos)/π, averaged
//   §7 norm vs score: per token, experts ranked by output norm and by router score (rank 0 = largest);
//      counts[score rank][norm rank] over tokens. Router logits rank like the probabilities (softmax and
//      sigmoid are monotonic), so the logits are ranked.
//   §8 intermediate states: silu(W_gate x) per token, experts × neurons (the probe's states).

/** Mean over tokens of the E×E angular similarity of the experts' outputs; gram [T, E, E]. */
export function expertOutputSimilarity(gram: Float32Array, numExperts: number): Float64Array {
  const E = numExperts;
  const T = gram.length / (E * E);
  const out = new Float64Array(E * E);
  for (let t = 0; t < T; t++) {
    const g = gram.subarray(t * E * E, (t + 1) * E * E);
    for (let i = 0; i < E; i++) {
      for (let j = 0; j < E; j++) {
        const denominator = Math.sqrt(g[i * E + i]! * g[j * E + j]!);
        const cos = i === j ? 1 : denominator > 0 ? Math.min(1, Math.max(-1, g[i * E + j]! / denominator)) : 0;
        out[i * E + j] = out[i * E + j]! + (1 - Math.acos(cos) / Math.PI) / T;
      }
    }
  }
  return out;
}

/** Output norms per token: sqrt of the Gram diagonal                                    [T][E] */
export function outputNorms(gram: Float32Array, numExperts: number): number[][] {
  const E = numExperts;
  return Array.from({ length: gram.length / (E * E) }, (_, t) => Array.from({ length: E }, (_, e) => Math.sqrt(Math.max(0, gram[t * E * E + e * E + e]!))));
}

/** Rank of each entry, 0 for the largest (ties: lower index first). */
export function ranksDescending(values: readonly number[]): number[] {
  const order = values.map((_, i) => i).sort((a, b) => values[b]! - values[a]! || a - b);
  const ranks = new Array<number>(values.length);
  order.forEach((index, rank) => (ranks[index] = rank));
  return ranks;
}

/** counts[score rank][norm rank] over the tokens given (norms and scores per token, [T][E]). */
export function normScoreRankCounts(norms: readonly number[][], scores: readonly number[][], numExperts: number): number[][] {
  const E = numExperts;
  const counts = Array.from({ length: E }, () => new Array<number>(E).fill(0));
  norms.forEach((n, t) => {
    const normRank = ranksDescending(n);
    const scoreRank = ranksDescending(scores[t]!);
    for (let e = 0; e < E; e++) counts[scoreRank[e]!]![normRank[e]!]!++;
  });
  return counts;
}
