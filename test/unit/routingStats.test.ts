import { describe, expect, it } from 'vitest';
import { loadStats } from '../../src/analysis/routingStats.ts';

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
});
