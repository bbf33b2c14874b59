// The paper's analyses on HF-written checkpoints (the tiny Mixtral fixture and the demo model), each against
// numpy/scipy on the same files (tools/paper_analysis_fixtures.py, whose own Mixtral forward pass matches
// transformers' logits to 1e-6 before it writes anything). Weight analyses run on the CPU; the forward and
// routing analyses run the engine (the expert probe on the GPU).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runAnalysis, type AnalysisContext, type AnalysisRequest } from '../../src/analysis/runAnalysis.ts';
import { expertOutputSimilarity, normScoreRankCounts, outputNorms } from '../../src/analysis/dynamicAnalyses.ts';
import type { LayerResult } from '../../src/analysis/result.ts';
import { MoeEngine } from '../../src/engine/engine.ts';
import { openModel } from '../../src/model/openModel.ts';
import { checkpointSources } from '../../src/node/checkpointPaths.ts';
import { testGpu } from '../helpers/gpu.ts';

interface Vocab { id: number; count: number; expert: number; share: number }
interface PaperFixture {
  checkpoint: string;
  promptIds: number[];
  compareIds: number[];
  static: {
    layer: number;
    reordered: Record<string, number[][]>;
    tau: Record<string, number[][]>;
    expertPca: Record<string, { points: number[][]; explained: number[] }>;
    neuronPca: Record<string, { points: number[][]; explained: number[] }>;
  };
  dynamic: { layer: number; angular: number[][]; norms: number[][]; rankCounts: number[][]; decisive: boolean[]; states?: number[][][] }[];
  routing: { layer: number; input: Vocab[]; next: Vocab[]; shareA: number[]; shareB: number[]; jsd: number; flowA?: number[][]; flowB?: number[][] }[];
}

const root = new URL('../../', import.meta.url).pathname;
const fixture = (name: string) => JSON.parse(readFileSync(new URL(`../fixtures/analysis/paper-${name}.json`, import.meta.url), 'utf8')) as PaperFixture;

/** max |a − b| / max |b| over two matrices. */
function relErr(a: number[][], b: number[][]): number {
  let diff = 0;
  let scale = 0;
  b.forEach((row, i) => row.forEach((v, j) => {
    diff = Math.max(diff, Math.abs(a[i]![j]! - v));
    scale = Math.max(scale, Math.abs(v));
  }));
  return diff / (scale || 1);
}

// The tiny Mixtral goes through runAnalysis (what the CLI and the worker call) for every analysis; the demo
// model, slow on SwiftShader, through one probed prefill whose results the analysis functions summarise.
describe.each([['mixtral', true], ['demo', false]] as const)('paper analyses on the %s checkpoint vs numpy', async (name, everyEntryPoint) => {
  const want = fixture(name);
  const model = await openModel(await checkpointSources([root + want.checkpoint]));
  const gpu = await testGpu();
  const engine = await MoeEngine.load(gpu, model, { maxPositions: 64 });
  const ctx: AnalysisContext = { model, engine, gpu, tokenText: (id) => `<${id}>` };
  const run = (request: Omit<AnalysisRequest, 'texts'>) => runAnalysis(ctx, { texts: [want.promptIds], ...request });
  const layerOf = (layers: LayerResult[], l: number) => layers.find((x) => x.layer === l)!;

  // neuron products for the matching on the GPU (f32; what a real GPU runs) or the CPU (f64; what
  // SwiftShader runs in the page), similarity in f64 either way; the demo model, slow on SwiftShader, on the CPU
  it.each(everyEntryPoint ? ['gpu', 'cpu'] : ['cpu'])('reordered neuron similarity (Hungarian) and Kendall τ, products on the %s', async (where) => {
    const { layers } = await runAnalysis({ ...ctx, gpu: where === 'gpu' ? gpu : null }, { analysis: 'reordered-similarity', layers: [want.static.layer] });
    for (const p of ['gate', 'up', 'down']) {
      expect(relErr(layers[0]!.matrices[p]!, want.static.reordered[p]!), p).toBeLessThan(1e-9);
      expect(relErr(layers[0]!.matrices[`${p} τ`]!, want.static.tau[p]!), `${p} τ`).toBeLessThan(1e-12);
    }
  });

  it('PCA of experts and of neurons (2 components, explained variance)', async () => {
    for (const [analysis, key] of [['expert-pca', 'expertPca'], ['neuron-pca', 'neuronPca']] as const) {
      const { layers } = await run({ analysis, layers: [want.static.layer] });
      for (const p of ['gate', 'up', 'down']) {
        const ours = layers[0]!.points![p]!;
        expect(relErr(ours.points, want.static[key][p]!.points), `${analysis} ${p}`).toBeLessThan(1e-6);
        expect(relErr([ours.explained], [want.static[key][p]!.explained]), `${analysis} ${p} explained`).toBeLessThan(1e-9);
      }
    }
  });

  if (everyEntryPoint) {
    it('expert-output similarity over all experts, and the output is unchanged', async () => {
      const plain = await engine.generate({ promptIds: want.promptIds, maxNewTokens: 4 });
      const probed = await engine.generate({ promptIds: want.promptIds, maxNewTokens: 4, probe: { statesLayers: [] } });
      expect(probed.tokens).toEqual(plain.tokens);
      expect(probed.layers.map((l) => l.routerLogits)).toEqual(plain.layers.map((l) => l.routerLogits));
      const { layers } = await run({ analysis: 'output-similarity' });
      for (const d of want.dynamic) expect(relErr(layerOf(layers, d.layer).matrices['angular similarity']!, d.angular), `layer ${d.layer}`).toBeLessThan(1e-4);
    });

    it('output norm vs gate score rank counts, per layer and summed', async () => {
      const { layers } = await run({ analysis: 'norm-score-ranks' });
      const total = want.dynamic[0]!.rankCounts.map((row) => row.map(() => 0));
      for (const d of want.dynamic) {
        // a token whose norms or scores nearly tie may rank differently in f32 and f64: the fixture marks them
        expect(d.decisive.filter(Boolean).length, `layer ${d.layer} decisive tokens`).toBeGreaterThan(d.decisive.length * 0.8);
        if (d.decisive.every(Boolean)) expect(layerOf(layers, d.layer).matrices['counts']).toEqual(d.rankCounts);
        d.rankCounts.forEach((row, i) => row.forEach((v, j) => (total[i]![j]! += v)));
      }
      if (want.dynamic.every((d) => d.decisive.every(Boolean))) expect(layerOf(layers, -1).matrices['counts']).toEqual(total);
    });

    it('intermediate states silu(W_gate x) of one layer, every token', async () => {
      const d = want.dynamic.find((x) => x.states)!;
      const { layers } = await run({ analysis: 'intermediate-states', layers: [d.layer] });
      const tokens = Object.values(layers[0]!.matrices);
      expect(tokens).toHaveLength(want.promptIds.length);
      tokens.forEach((m, t) => expect(relErr(m, d.states![t]!), `token ${t}`).toBeLessThan(1e-4));
    });

    it('vocabulary specialisation (input and next token) and domain comparison', async () => {
      const vocab = await run({ analysis: 'vocabulary' });
      const domains = await run({ analysis: 'domain-comparison', compare: [want.compareIds] });
      for (const r of want.routing) {
        const v = layerOf(vocab.layers, r.layer).tables!;
        for (const [key, rows] of [['input token', r.input], ['next token', r.next]] as const) {
          expect(v[key]!.rows.map(([id, , count, expert]) => [id, count, expert]), `layer ${r.layer} ${key}`).toEqual(rows.map((x) => [x.id, x.count, x.expert]));
          v[key]!.rows.forEach((row, i) => expect(row[4] as number).toBeCloseTo(rows[i]!.share, 12));
        }
        const d = layerOf(domains.layers, r.layer);
        expect(relErr([d.matrices['share A']![0]!, d.matrices['share B']![0]!], [r.shareA, r.shareB])).toBeLessThan(1e-12);
        expect(d.stats!['JSD (bits)']).toBeCloseTo(r.jsd, 10);
        if (r.flowA) {
          expect(d.matrices[`top-1 flow A → layer ${r.layer + 1}`]).toEqual(r.flowA);
          expect(d.matrices[`top-1 flow B → layer ${r.layer + 1}`]).toEqual(r.flowB);
        }
      }
    });
  } else {
    it('one probed prefill: output similarity, norm/score ranks and states; the output unchanged', async () => {
      const statesLayer = want.dynamic.find((x) => x.states)!.layer;
      const plain = await engine.generate({ promptIds: want.promptIds, maxNewTokens: 1 });
      const probed = await engine.generate({ promptIds: want.promptIds, maxNewTokens: 1, probe: { statesLayers: [statesLayer] } });
      expect(probed.tokens).toEqual(plain.tokens);
      for (const d of want.dynamic) {
        const p = probed.probe!.find((x) => x.layer === d.layer)!;
        const E = p.numExperts;
        const angular = expertOutputSimilarity(p.gram, E);
        expect(relErr(Array.from({ length: E }, (_, i) => Array.from(angular.subarray(i * E, (i + 1) * E))), d.angular), `layer ${d.layer} angular`).toBeLessThan(1e-4);
        expect(relErr(outputNorms(p.gram, E), d.norms), `layer ${d.layer} norms`).toBeLessThan(1e-4);
        const logits = probed.layers.find((x) => x.layer === d.layer)!.routerLogits;
        const keep = d.decisive.map((ok, t) => (ok ? t : -1)).filter((t) => t >= 0);
        expect(keep.length, `layer ${d.layer} decisive tokens`).toBeGreaterThan(d.decisive.length * 0.8);
        const norms = outputNorms(p.gram, E);
        const oursOnDecisive = normScoreRankCounts(keep.map((t) => norms[t]!), keep.map((t) => logits[t]!), E);
        const theirsOnDecisive = normScoreRankCounts(keep.map((t) => d.norms[t]!), keep.map((t) => logits[t]!), E);
        expect(oursOnDecisive).toEqual(theirsOnDecisive);
        if (d.decisive.every(Boolean)) expect(normScoreRankCounts(norms, logits, E)).toEqual(d.rankCounts);
        if (d.states) {
          const I = p.width;
          d.states.forEach((m, t) => expect(relErr(Array.from({ length: E }, (_, e) => Array.from(p.states!.subarray((t * E + e) * I, (t * E + e + 1) * I))), m), `token ${t}`).toBeLessThan(1e-4));
        }
      }
    });
  }
});
