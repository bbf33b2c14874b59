// The paper's three findings ("A Closer Look into Mixture-of-Experts in LLMs", Lo et al. 2024), measured on a
// checkpoint with MoEScope's own analyses, printed as a markdown table per finding:
//   1. neurons act like fine-grained experts: router rows resemble the neuron-averaged W_gate (r²), and
//      reordering neurons (Hungarian) raises expert similarity only a little (Kendall τ near 0)
//   2. the router prefers experts with large outputs: how often the top-scored expert has the largest
//      output norm, against 1/E by chance
//   3. diversity rises with depth: mean off-diagonal similarity of weights and of outputs per layer
// Usage: npx tsx tools/paper_findings.ts CHECKPOINT_DIR TEXT_FILE...   (each file's first 600 characters)
import { readFileSync } from 'node:fs';
import { reorderedPair } from '../src/analysis/reorderedSimilarity.ts';
import { runAnalysis, weightAnalysisGpu, type AnalysisRequest } from '../src/analysis/runAnalysis.ts';
import { MoeEngine } from '../src/engine/engine.ts';
import { openModel } from '../src/model/openModel.ts';
import { checkpointSources } from '../src/node/checkpointPaths.ts';
import { createNodeGpu } from '../src/node/gpu.ts';
import { loadTokenizer } from '../src/tokenizer/tokenizer.ts';
import { seededRandom } from '../src/util/random.ts';

const [dir, ...files] = process.argv.slice(2);
if (!dir || files.length === 0) throw new Error('usage: tools/paper_findings.ts CHECKPOINT_DIR TEXT_FILE...');
const model = await openModel(await checkpointSources([dir]));
const tokenizer = loadTokenizer(model.checkpoint.text)!;
const texts = files.map((f) => tokenizer.encode(readFileSync(f, 'utf8').slice(0, 600)));
const gpu = await createNodeGpu();
const engine = await MoeEngine.load(gpu, model, { maxPositions: Math.max(...texts.map((t) => t.length)) + 1 });
const ctx = { model, engine, gpu: weightAnalysisGpu(gpu), tokenText: (id: number) => tokenizer.tokenText(id) };
const run = async (request: AnalysisRequest) => {
  const r = await runAnalysis(ctx, request);
  console.error(`${request.analysis}: ${(r.milliseconds / 1000).toFixed(1)} s`);
  return r.layers;
};
const offDiagonalMean = (m: number[][]) => m.reduce((s, row, i) => s + row.reduce((a, v, j) => a + (i === j ? 0 : v), 0), 0) / (m.length * (m.length - 1));
const f3 = (x: number) => x.toFixed(3);
const E = model.card.numExperts;
const layers = [...model.spec.moeLayers];

console.log(`${model.spec.architecture}, ${E} experts top-${model.card.topK}, ${layers.length} MoE layers; texts: ${files.length} (${texts.reduce((a, t) => a + t.length, 0)} tokens)\n`);

const router = await run({ analysis: 'router-similarity' });
const matrix = await run({ analysis: 'expert-similarity' });
const reordered = await run({ analysis: 'reordered-similarity', layers });
// what reordering gives two unrelated experts: Gaussian matrices of the same shape (mean of 5 pairs)
const moeSpec = model.spec.layers[layers[0]!]!.mlp;
const I = moeSpec.kind === 'moe' ? moeSpec.expertIntermediateSize : 0;
const H = model.spec.hiddenSize;
const random = seededRandom(3);
const gaussian = () => Float64Array.from({ length: I * H }, () => Math.sqrt(-2 * Math.log(random() || 1e-12)) * Math.cos(2 * Math.PI * random()));
const baseline = Array.from({ length: 5 }, () => reorderedPair(gaussian(), gaussian(), H).similarity).reduce((a, b) => a + b, 0) / 5;
console.log(`**1. Neurons as fine-grained experts** (reordered similarity of two random Gaussian experts of the same shape: ${f3(baseline)})\n\n| layer | r² router vs gate / up / down | mean similarity W_gate: matrix → reordered | Kendall τ (gate) |\n| --- | --- | --- | --- |`);
for (const [i, l] of layers.entries()) {
  const s = router[i]!.stats!;
  console.log(`| ${l} | ${f3(s['r² router vs gate']!)} / ${f3(s['r² router vs up']!)} / ${f3(s['r² router vs down']!)} | ${f3(offDiagonalMean(matrix[i]!.matrices['gate']!))} → ${f3(offDiagonalMean(reordered[i]!.matrices['gate']!))} | ${f3(offDiagonalMean(reordered[i]!.matrices['gate τ']!))} |`);
}

const ranks = await run({ analysis: 'norm-score-ranks', texts });
console.log(`\n**2. Router prefers large-output experts** (chance: top-1 ${f3(1 / E)}, diagonal ${f3(1 / E)})\n\n| layer | top-1 score has top-1 norm | same rank (diagonal share) |\n| --- | --- | --- |`);
for (const r of ranks.filter((x) => x.layer >= 0)) console.log(`| ${r.layer} | ${f3(r.stats!['top-1 score is top-1 norm']!)} | ${f3(r.stats!['same rank (diagonal share)']!)} |`);
const total = ranks.find((x) => x.layer < 0)!.matrices['counts']!;
const tokens = total[0]!.reduce((a, b) => a + b, 0);
console.log(`| all | ${f3(total[0]![0]! / tokens)} | ${f3(total.reduce((a, row, i) => a + row[i]!, 0) / (tokens * E))} |`);

const outputs = await run({ analysis: 'output-similarity', texts });
console.log('\n**3. Diversity with depth** (mean off-diagonal similarity; lower = more diverse)\n\n| layer | weights W_gate / W_up / W_down (cosine) | outputs (angular) |\n| --- | --- | --- |');
for (const [i, l] of layers.entries()) {
  const m = matrix[i]!.matrices;
  console.log(`| ${l} | ${f3(offDiagonalMean(m['gate']!))} / ${f3(offDiagonalMean(m['up']!))} / ${f3(offDiagonalMean(m['down']!))} | ${f3(offDiagonalMean(outputs[i]!.matrices['angular similarity']!))} |`);
}
engine.destroy();
gpu.destroy();
