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

/**
 * The sums behind LoadStats, taking rows as they come: a run's live view adds only the rows appended since
 * its last update instead of going over every token again (a softmax per token and layer).
 */
export class LoadAccumulator {
  readonly counts: number[]; // [E] (token, slot) assignments so far
  private readonly probSums: number[]; // [E] Σ over tokens of the router probability
  private entropySum = 0; // Σ over tokens, nats
  private logitRows = 0;
  private expertRows = 0;

  constructor(readonly numExperts: number) {
    this.counts = new Array<number>(numExperts).fill(0);
    this.probSums = new Array<number>(numExperts).fill(0);
  }

  /** Rows of `experts` taken so far. */
  get rows(): number {
    return this.expertRows;
  }

  /** Take the rows from `this.rows` on (both arrays grow together, appended in place). */
  addRows(experts: readonly number[][], routerLogits: readonly number[][]): void {
    for (let t = this.expertRows; t < experts.length; t++) for (const e of experts[t]!) this.counts[e] = (this.counts[e] ?? 0) + 1;
    this.expertRows = experts.length;
    for (let t = this.logitRows; t < routerLogits.length; t++) {
      const p = softmaxRow(routerLogits[t]!);
      p.forEach((x, i) => (this.probSums[i] = this.probSums[i]! + x));
      this.entropySum -= p.reduce((a, x) => a + (x > 0 ? x * Math.log(x) : 0), 0);
    }
    this.logitRows = routerLogits.length;
  }

  stats(): LoadStats {
    const E = this.numExperts;
    const T = this.expertRows;
    const counts = [...this.counts];
    const assignments = counts.reduce((a, b) => a + b, 0);
    const mean = assignments / E;
    const variance = counts.reduce((a, c) => a + (c - mean) ** 2, 0) / E;
    const meanProb = this.probSums.map((p) => (T ? p / T : 0));
    const entropy = T ? this.entropySum / T : 0;
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
}

export function loadStats(experts: readonly number[][], routerLogits: readonly number[][], numExperts: number): LoadStats {
  const acc = new LoadAccumulator(numExperts);
  acc.addRows(experts, routerLogits);
  return acc.stats();
}
