import { describe, expect, it } from 'vitest';
import { LoadAccumulator, loadStats } from '../../src/analysis/routingStats.ts';
import { seededRandom } from '../helpers/random.ts';

describe('load-balance statistics (hand-worked)', () => {
  it('counts, shares, CV, auxiliary loss and entropy', () => {
    // 3 tokens, top-2 over 4 experts; all router logits equal → uniform probabilities 1/4
    const experts = [[0, 1], [0, 2], [0, 1]];
    const logits = [[0, 0, 0, 0], [1, 1, 1, 1], [2, 2, 2, 2]];
    const s = loadStats(experts, logits, 4);
    expect(s.counts).toEqual([3, 2, 1, 0]);
    expect(s.shares).toEqual([0.5, 2 / 6, 1 / 6, 0]);
    // mean 1.5, variance (2.25 + 0.25 + 0.25 + 2.25) / 4 = 1.25
    expect(s.coefficientOfVariation).toBeCloseTo(Math.sqrt(1.25) / 1.5, 12);
    // E · Σ (count_i / T) · P_i = 4 · (6 / 3) · 1/4 = 2 (= k for uniform probabilities)
    expect(s.auxLoss).toBeCloseTo(2, 12);
    expect(s.entropy).toBeCloseTo(Math.log(4), 12);
    expect(s.normalizedEntropy).toBeCloseTo(1, 12);
  });

  it('a decisive router has low entropy', () => {
    const s = loadStats([[1]], [[0, 20, 0]], 3);
    expect(s.normalizedEntropy).toBeLessThan(1e-6);
    expect(s.coefficientOfVariation).toBeCloseTo(Math.sqrt(2), 12); // counts [0,1,0]: std √(2/9), mean 1/3
  });

  it('rows taken as they are appended give the statistics of all of them at once', () => {
    const [E, K] = [5, 2];
    const rand = seededRandom(3);
    const experts: number[][] = [];
    const logits: number[][] = [];
    const acc = new LoadAccumulator(E);
    for (const n of [7, 1, 12]) {
      for (let i = 0; i < n; i++) {
        logits.push(Array.from({ length: E }, () => rand() * 6 - 3));
        experts.push([...Array(E).keys()].sort(() => rand() - 0.5).slice(0, K));
      }
      acc.addRows(experts, logits);
    }
    // the definitions, over all 20 rows
    const T = experts.length;
    const counts = Array.from({ length: E }, (_, e) => experts.flat().filter((x) => x === e).length);
    const probs = logits.map((row) => row.map((x) => Math.exp(x)).map((x, _, all) => x / all.reduce((a, b) => a + b, 0)));
    const meanProb = Array.from({ length: E }, (_, e) => probs.reduce((a, p) => a + p[e]!, 0) / T);
    const entropy = probs.reduce((a, p) => a - p.reduce((b, x) => b + x * Math.log(x), 0), 0) / T;
    const mean = (T * K) / E;
    const s = acc.stats();
    expect(s.tokens).toBe(20);
    expect(s.counts).toEqual(counts);
    expect(s.coefficientOfVariation).toBeCloseTo(Math.sqrt(counts.reduce((a, c) => a + (c - mean) ** 2, 0) / E) / mean, 12);
    expect(s.auxLoss).toBeCloseTo(E * counts.reduce((a, c, e) => a + (c / T) * meanProb[e]!, 0), 12);
    expect(s.entropy).toBeCloseTo(entropy, 12);
  });
});
