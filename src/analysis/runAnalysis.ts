// One entry point for every analysis, used by `moescope analyze` and the page's worker. Weight analyses
// read the checkpoint (CPU); forward and routing analyses run the engine on the given token ids.

import type { MoeEngine, LayerTrace } from '../engine/engine.ts';
import type { GpuContext } from '../gpu/context.ts';
import type { ProbeLayer } from '../engine/expertProbe.ts';
import { expertMatrices, tensorF32 } from '../model/expertMatrices.ts';
import type { OpenedModel } from '../model/openModel.ts';
import { ANALYSES, type AnalysisName } from './catalog.ts';
import { coactivation } from './coactivation.ts';
import { expertOutputSimilarity, normScoreRankCounts, outputNorms } from './dynamicAnalyses.ts';
import { lowerTriangleR2, matrixSimilarity, neuronAveragedSimilarity, PROJECTIONS, routerSimilarity, type Projection } from './expertSimilarity.ts';
import { expertPca, MAX_PCA_NEURONS, neuronPca } from './pca.ts';
import { reorderedSimilarity } from './reorderedSimilarity.ts';
import type { AnalysisResult, LayerResult } from './result.ts';
import { loadStats } from './routingStats.ts';
import { jensenShannon, meanSpecialisation, topOneFlow, vocabularySpecialisation } from './specialisation.ts';

export interface AnalysisRequest {
  analysis: AnalysisName;
  /** MoE layers to include (default: all; the first MoE layer for one-layer analyses). */
  layers?: readonly number[];
  /** reordered-similarity: the experts to compare (default: all). */
  experts?: readonly number[];
  /** Token ids of the text, or of each text of a batch. */
  texts?: readonly (readonly number[])[];
  /** domain-comparison: the second text (or batch). */
  compare?: readonly (readonly number[])[];
}

export interface AnalysisContext {
  model: OpenedModel;
  /** Forward and routing analyses need it; null when the engine cannot run the model. */
  engine: MoeEngine | null;
  /** Where the heavy weight analyses run their matrix products; null: on the CPU. */
  gpu: GpuContext | null;
  tokenText: (id: number) => string;
  onProgress?: (done: number, total: number) => void;
}

/**
 * The GPU for the weight analyses' matrix products: a real one. On a CPU implementation (SwiftShader)
 * the same products run faster in plain TypeScript (measured: the demo model's reordering 117 s vs 19 s).
 */
export function weightAnalysisGpu(gpu: GpuContext | null): GpuContext | null {
  return gpu && !gpu.adapter.isFallback && !/swiftshader/i.test(gpu.adapter.name) ? gpu : null;
}

export class AnalysisInputError extends Error {
  override name = 'AnalysisInputError';
}

const rowsOf = (m: Float64Array, E: number) => Array.from({ length: E }, (_, i) => Array.from(m.subarray(i * E, (i + 1) * E)));

export async function runAnalysis(ctx: AnalysisContext, request: AnalysisRequest): Promise<AnalysisResult> {
  const started = performance.now();
  const { model } = ctx;
  const info = ANALYSES[request.analysis];
  const moe = model.spec.moeLayers;
  for (const l of request.layers ?? []) if (!moe.includes(l)) throw new AnalysisInputError(`layer ${l} is not an MoE layer (MoE layers: ${moe.join(', ')})`);
  const layers = request.layers?.length ? [...request.layers] : info.oneLayer ? [moe[0]!] : [...moe];
  const notes: string[] = [];
  let out: LayerResult[];
  if (info.source === 'weights') {
    out = await weightAnalysis(ctx, request, layers, notes);
  } else {
    const texts = request.texts ?? [];
    if (texts.length === 0 || texts.some((t) => t.length === 0)) throw new AnalysisInputError(`${request.analysis} needs a text (token ids)`);
    if (info.texts === 2 && !request.compare?.length) throw new AnalysisInputError('domain-comparison needs a second text to compare with');
    if (!ctx.engine) throw new AnalysisInputError(`${request.analysis} runs the model, and the engine cannot run this checkpoint`);
    out = info.source === 'forward' ? await forwardAnalysis(ctx, request.analysis, texts, layers, notes) : await routingAnalysis(ctx, request, texts, layers, notes);
  }
  return { analysis: request.analysis, architecture: model.spec.architecture, layers: out, notes, milliseconds: performance.now() - started };
}

// ─── from the weights ────────────────────────────────────────────────────────────────────────────────

async function weightAnalysis(ctx: AnalysisContext, request: AnalysisRequest, layers: readonly number[], notes: string[]): Promise<LayerResult[]> {
  const { model } = ctx;
  const H = model.spec.hiddenSize;
  const out: LayerResult[] = [];
  for (const [n, index] of layers.entries()) {
    const spec = model.spec.layers[index]!.mlp;
    const weights = model.weights.layers[index]!.mlp;
    if (spec.kind !== 'moe' || weights.kind !== 'moe') throw new AnalysisInputError(`layer ${index} is not an MoE layer`);
    const E = spec.numExperts;
    const experts = await expertMatrices(weights, spec, H);
    const result: LayerResult = { layer: index, matrices: {} };
    switch (request.analysis) {
      case 'expert-similarity':
        for (const p of PROJECTIONS) result.matrices[p] = rowsOf(matrixSimilarity(experts, p), E);
        break;
      case 'neuron-similarity':
      case 'router-similarity': {
        const averaged = Object.fromEntries(PROJECTIONS.map((p) => [p, neuronAveragedSimilarity(experts, p, H)])) as Record<Projection, Float64Array>;
        for (const p of PROJECTIONS) result.matrices[p] = rowsOf(averaged[p], E);
        if (request.analysis === 'router-similarity') {
          const router = routerSimilarity(await tensorF32(weights.router), E);
          result.matrices['router'] = rowsOf(router, E);
          result.stats = Object.fromEntries(PROJECTIONS.map((p) => [`r² router vs ${p}`, lowerTriangleR2(averaged[p], router, E)]));
        }
        break;
      }
      case 'reordered-similarity': {
        const chosen = request.experts?.length ? [...request.experts] : experts.map((_, e) => e);
        const bad = chosen.find((e) => !Number.isInteger(e) || e < 0 || e >= E);
        if (bad !== undefined) throw new AnalysisInputError(`expert ${bad} does not exist (layer ${index} has ${E})`);
        const subset = chosen.map((e) => experts[e]!);
        const pairs = (subset.length * (subset.length - 1)) / 2;
        let done = 0;
        for (const p of PROJECTIONS) {
          const r = await reorderedSimilarity(subset, p, H, ctx.gpu, () => ctx.onProgress?.(++done + n * 3 * pairs, layers.length * 3 * pairs));
          result.matrices[p] = rowsOf(r.similarity, subset.length);
          result.matrices[`${p} τ`] = rowsOf(r.tau, subset.length);
        }
        if (n === 0) notes.push(`experts ${chosen.join(', ')}; ${spec.expertIntermediateSize} neurons each`);
        break;
      }
      case 'expert-pca':
      case 'neuron-pca': {
        const pca = request.analysis === 'expert-pca' ? expertPca : neuronPca;
        result.points = Object.fromEntries(PROJECTIONS.map((p) => {
          const r = pca(experts, p, H);
          return [p, { points: r.points, group: r.expert, explained: r.explained }];
        }));
        if (request.analysis === 'neuron-pca' && n === 0 && E * spec.expertIntermediateSize > MAX_PCA_NEURONS) {
          notes.push(`${E * spec.expertIntermediateSize} neurons per projection: every ${Math.ceil((E * spec.expertIntermediateSize) / MAX_PCA_NEURONS)}th is shown`);
        }
        break;
      }
      default:
        throw new Error(`${request.analysis} is not a weight analysis`);
    }
    if (request.analysis !== 'reordered-similarity') ctx.onProgress?.(n + 1, layers.length);
    out.push(result);
  }
  return out;
}

// ─── from a forward pass with every expert ──────────────────────────────────────────────────────────────

async function forwardAnalysis(ctx: AnalysisContext, analysis: AnalysisName, texts: readonly (readonly number[])[], layers: readonly number[], notes: string[]): Promise<LayerResult[]> {
  const engine = ctx.engine!;
  const statesLayers = analysis === 'intermediate-states' ? layers : [];
  if (analysis === 'intermediate-states' && texts.length > 1) notes.push('intermediate states of the first text only');
  const probes: { probe: ProbeLayer[]; trace: LayerTrace[]; ids: readonly number[] }[] = [];
  const probed = analysis === 'intermediate-states' ? texts.slice(0, 1) : texts;
  for (const [n, ids] of probed.entries()) {
    const run = await engine.generate({ promptIds: ids, maxNewTokens: 0, probe: { statesLayers } });
    probes.push({ probe: run.probe!, trace: run.layers, ids });
    ctx.onProgress?.(n + 1, probed.length);
  }
  const tokens = probes.reduce((a, p) => a + p.ids.length, 0);
  notes.push(`${tokens} tokens in ${probes.length} text${probes.length === 1 ? '' : 's'}`);
  const byLayer = (layer: number) => probes.map((p) => ({ probe: p.probe.find((l) => l.layer === layer)!, trace: p.trace.find((l) => l.layer === layer)!, ids: p.ids }));
  const out: LayerResult[] = [];
  if (analysis === 'output-similarity') {
    for (const layer of layers) {
      const runs = byLayer(layer);
      const E = runs[0]!.probe.numExperts;
      const mean = new Float64Array(E * E);
      for (const r of runs) expertOutputSimilarity(r.probe.gram, E).forEach((v, i) => (mean[i] = mean[i]! + (v * r.ids.length) / tokens));
      out.push({ layer, matrices: { 'angular similarity': rowsOf(mean, E) } });
    }
  } else if (analysis === 'norm-score-ranks') {
    let total: number[][] | null = null;
    for (const layer of layers) {
      const runs = byLayer(layer);
      const E = runs[0]!.probe.numExperts;
      const counts = normScoreRankCounts(runs.flatMap((r) => outputNorms(r.probe.gram, E)), runs.flatMap((r) => r.trace.routerLogits), E);
      total = total ? total.map((row, i) => row.map((v, j) => v + counts[i]![j]!)) : counts.map((row) => [...row]);
      const diagonal = counts.reduce((a, row, i) => a + row[i]!, 0) / tokens;
      out.push({ layer, matrices: { counts }, stats: { 'top-1 score is top-1 norm': counts[0]![0]! / tokens, 'same rank (diagonal share)': diagonal / E } });
    }
    if (total) out.push({ layer: -1, matrices: { counts: total } });
  } else {
    for (const layer of layers) {
      const { probe, ids, trace } = byLayer(layer)[0]!;
      const E = probe.numExperts;
      const I = probe.width;
      const states = probe.states!;
      const matrices: Record<string, number[][]> = {};
      ids.forEach((id, t) => {
        matrices[`token ${t}: ${JSON.stringify(ctx.tokenText(id))} → experts ${trace.experts[t]!.join(', ')}`] = Array.from({ length: E }, (_, e) => Array.from(states.subarray((t * E + e) * I, (t * E + e + 1) * I)));
      });
      out.push({ layer, matrices });
    }
  }
  return out;
}

// ─── from the router's choices ──────────────────────────────────────────────────────────────────────

/** Routing of each text: the trace of a prefill (no generation beyond the next token). */
async function traces(engine: MoeEngine, texts: readonly (readonly number[])[]) {
  const runs = [];
  for (const ids of texts) runs.push(await engine.generate({ promptIds: ids, maxNewTokens: 0 }));
  return runs;
}

async function routingAnalysis(ctx: AnalysisContext, request: AnalysisRequest, texts: readonly (readonly number[])[], layers: readonly number[], notes: string[]): Promise<LayerResult[]> {
  const engine = ctx.engine!;
  const E = ctx.model.card.numExperts;
  const runs = await traces(engine, texts);
  ctx.onProgress?.(1, request.analysis === 'domain-comparison' ? 2 : 1);
  const rowsAt = (rs: typeof runs, layer: number) => rs.map((r) => r.layers.find((l) => l.layer === layer)!);
  notes.push(`${runs.reduce((a, r) => a + r.promptLength, 0)} tokens in ${runs.length} text${runs.length === 1 ? '' : 's'}`);
  switch (request.analysis) {
    case 'chosen-experts':
      return layers.map((layer) => {
        const l = rowsAt(runs, layer)[0]!;
        const matrix = l.experts.map((row, t) => {
          const weights = new Array<number>(E).fill(0);
          row.forEach((e, s) => (weights[e] = l.weights[t]![s]!));
          return weights;
        });
        return { layer, matrices: { 'combine weights': matrix } };
      });
    case 'coactivation':
      return layers.map((layer) => ({ layer, matrices: { coactivation: rowsOf(coactivation(rowsAt(runs, layer).flatMap((l) => l.experts), E), E) } }));
    case 'load-balance':
      return layers.map((layer) => {
        const ls = rowsAt(runs, layer);
        const s = loadStats(ls.flatMap((l) => l.experts), ls.flatMap((l) => l.routerLogits), E);
        return { layer, matrices: { share: [s.shares], counts: [s.counts] }, stats: { cv: s.coefficientOfVariation, auxLoss: s.auxLoss, entropy: s.entropy, normalizedEntropy: s.normalizedEntropy } };
      });
    case 'vocabulary':
      return layers.map((layer) => {
        const ls = rowsAt(runs, layer);
        const top1 = ls.flatMap((l) => l.experts.map((row) => row[0]!));
        const input = vocabularySpecialisation(runs.flatMap((r) => r.tokens.slice(0, r.promptLength)), top1, E);
        const next = vocabularySpecialisation(runs.flatMap((r) => r.tokens.slice(1, r.promptLength + 1)), top1, E);
        const table = (rows: typeof input) => ({
          columns: ['token id', 'token', 'occurrences', 'favourite expert', 'share'],
          rows: rows.map((r) => [r.id, ctx.tokenText(r.id), r.count, r.expert, r.share]),
        });
        return {
          layer, matrices: {},
          tables: { 'input token': table(input), 'next token': table(next) },
          stats: { 'input token specialisation': meanSpecialisation(input), 'next token specialisation': meanSpecialisation(next), 'random routing': 1 / E },
        };
      });
    case 'domain-comparison': {
      const other = await traces(engine, request.compare!);
      ctx.onProgress?.(2, 2);
      notes.push(`compared with ${other.reduce((a, r) => a + r.promptLength, 0)} tokens in ${other.length} text${other.length === 1 ? '' : 's'}`);
      return layers.map((layer, n) => {
        const [a, b] = [rowsAt(runs, layer), rowsAt(other, layer)];
        const shareA = loadStats(a.flatMap((l) => l.experts), a.flatMap((l) => l.routerLogits), E).shares;
        const shareB = loadStats(b.flatMap((l) => l.experts), b.flatMap((l) => l.routerLogits), E).shares;
        const result: LayerResult = { layer, matrices: { 'share A': [shareA], 'share B': [shareB] }, stats: { 'JSD (bits)': jensenShannon(shareA, shareB) } };
        const nextLayer = layers[n + 1];
        if (nextLayer !== undefined) {
          const [na, nb] = [rowsAt(runs, nextLayer), rowsAt(other, nextLayer)];
          result.matrices[`top-1 flow A → layer ${nextLayer}`] = topOneFlow(a.flatMap((l) => l.experts), na.flatMap((l) => l.experts), E);
          result.matrices[`top-1 flow B → layer ${nextLayer}`] = topOneFlow(b.flatMap((l) => l.experts), nb.flatMap((l) => l.experts), E);
        }
        return result;
      });
    }
    default:
      throw new Error(`${request.analysis} is not a routing analysis`);
  }
}
