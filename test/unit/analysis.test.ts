// Weight analyses against an independent numpy computation on the same checkpoint bytes
// (tools/analysis_fixtures.py wrote the fixture), and co-activation on a hand-worked example.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { coactivation } from '../../src/analysis/coactivation.ts';
import { runAnalysis } from '../../src/analysis/runAnalysis.ts';
import { openModel } from '../../src/model/openModel.ts';
import { buildCheckpoint, SYNTHETIC } from '../helpers/syntheticCheckpoints.ts';

interface NumpyLayer {
  layer: number;
  matrix: Record<'gate' | 'up' | 'down', number[][]>;
  averaged: Record<'gate' | 'up' | 'down', number[][]>;
  router: number[][];
  r2: Record<'gate' | 'up' | 'down', number>;
}
const numpy = JSON.parse(readFileSync(new URL('../fixtures/analysis/mixtral-seed21.json', import.meta.url), 'utf8')) as { layers: NumpyLayer[] };
const TOL = 1e-9; // both in f64 over the same bf16 values

function maxDiff(a: number[][], b: number[][]): number {
  return Math.max(...a.flatMap((row, i) => row.map((v, j) => Math.abs(v - b[i]![j]!))));
}

describe('weight analyses vs numpy', async () => {
  const model = await openModel(buildCheckpoint(SYNTHETIC['MixtralForCausalLM']!, { randomSeed: 21 }));
  const staticAnalysis = async (m: typeof model, analysis: 'expert-similarity' | 'router-similarity', layers?: number[]) =>
    (await runAnalysis({ model: m, engine: null, gpu: null, tokenText: String }, { analysis, ...(layers ? { layers } : {}) })).layers;

  it('matrix-level expert similarity per projection', async () => {
    const ours = await staticAnalysis(model, 'expert-similarity');
    for (const [i, want] of numpy.layers.entries()) {
      for (const p of ['gate', 'up', 'down'] as const) expect(maxDiff(ours[i]!.matrices[p]!, want.matrix[p]), `layer ${i} ${p}`).toBeLessThan(TOL);
    }
  });

  it('neuron-averaged similarity, router similarity and r²', async () => {
    const ours = await staticAnalysis(model, 'router-similarity');
    for (const [i, want] of numpy.layers.entries()) {
      for (const p of ['gate', 'up', 'down'] as const) {
        expect(maxDiff(ours[i]!.matrices[p]!, want.averaged[p]), `layer ${i} averaged ${p}`).toBeLessThan(TOL);
        expect(Math.abs(ours[i]!.stats![`r² router vs ${p}`]! - want.r2[p]), `layer ${i} r² ${p}`).toBeLessThan(1e-9);
      }
      expect(maxDiff(ours[i]!.matrices['router']!, want.router), `layer ${i} router`).toBeLessThan(TOL);
    }
  });

  it('rejects a layer that is not MoE', async () => {
    const qwen = await openModel(buildCheckpoint(SYNTHETIC['Qwen2MoeForCausalLM']!, { randomSeed: 1 }));
    await expect(staticAnalysis(qwen as typeof model, 'expert-similarity', [0])).rejects.toThrow(/layer 0 is not an MoE layer \(MoE layers: 1\)/);
  });
});

describe('co-activation', () => {
  it('P(b | a) over tokens (hand-worked)', () => {
    // tokens choose {0,1}, {0,2}, {1,2}, {0,1} of 3 experts
    const m = coactivation([[0, 1], [0, 2], [1, 2], [1, 0]], 3);
    const rows = [0, 1, 2].map((a) => Array.from(m.subarray(a * 3, a * 3 + 3)));
    expect(rows[0]).toEqual([1, 2 / 3, 1 / 3]); // 0 chosen 3 times: with 1 twice, with 2 once
    expect(rows[1]).toEqual([2 / 3, 1, 1 / 3]);
    expect(rows[2]).toEqual([1 / 2, 1 / 2, 1]);
  });
});
