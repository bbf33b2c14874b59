// Routing specialisation (../shared/ANALYSES.md §11–12, after OLMoE's routing analyses).
//   vocabulary: per token id, the share of its occurrences whose top-1 expert is the one it goes to most;
//     for the input token at each position, and for the next token (what the model predicts there: the
//     next prompt token, or its own output for generated ones)
//   domains: two texts' expert load side by side per layer, their Jensen–Shannon divergence (bits), and
//     the flow of top-1 choices from each MoE layer to the next

export interface TokenSpecialisation {
  id: number;
  count: number;
  expert: number; // the top-1 expert it goes to most often (lowest index on ties)
  share: number; // of its occurrences
}

/** Per token id (ids[t] with top-1 expert top1[t]), most frequent first. */
export function vocabularySpecialisation(ids: readonly number[], top1: readonly number[], numExperts: number): TokenSpecialisation[] {
  const counts = new Map<number, number[]>();
  ids.forEach((id, t) => {
    let row = counts.get(id);
    if (!row) counts.set(id, (row = new Array<number>(numExperts).fill(0)));
    row[top1[t]!]!++;
  });
  return [...counts.entries()]
    .map(([id, row]) => {
      const count = row.reduce((a, b) => a + b, 0);
      const expert = row.indexOf(Math.max(...row));
      return { id, count, expert, share: row[expert]! / count };
    })
    .sort((a, b) => b.count - a.count || a.id - b.id);
}

/** Occurrence-weighted mean share over the token ids seen at least twice (one occurrence is trivially 1). */
export function meanSpecialisation(rows: readonly TokenSpecialisation[]): number {
  const repeated = rows.filter((r) => r.count >= 2);
  const total = repeated.reduce((a, r) => a + r.count, 0);
  return total ? repeated.reduce((a, r) => a + r.share * r.count, 0) / total : 0;
}

/** Jensen–Shannon divergence of two distributions, in bits (0 … 1). */
export function jensenShannon(p: readonly number[], q: readonly number[]): number {
  const kl = (a: readonly number[], m: readonly number[]) => a.reduce((s, x, i) => s + (x > 0 ? x * Math.log2(x / m[i]!) : 0), 0);
  const m = p.map((x, i) => (x + q[i]!) / 2);
  return (kl(p, m) + kl(q, m)) / 2;
}

/** flow[a][b]: tokens whose top-1 expert is a in one layer and b in the next. */
export function topOneFlow(from: readonly number[][], to: readonly number[][], numExperts: number): number[][] {
  const flow = Array.from({ length: numExperts }, () => new Array<number>(numExperts).fill(0));
  from.forEach((row, t) => flow[row[0]!]![to[t]![0]!]!++);
  return flow;
}
