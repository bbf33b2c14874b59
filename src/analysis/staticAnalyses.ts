// The weight analyses of one checkpoint, per MoE layer, as the CLI and (later) the page report them.

import { expertMatrices, tensorF32 } from '../model/expertMatrices.ts';
import type { OpenedModel } from '../model/openModel.ts';
import { lowerTriangleR2, matrixSimilarity, neuronAveragedSimilarity, PROJECTIONS, routerSimilarity, type Projection } from './expertSimilarity.ts';

export const STATIC_ANALYSES = ['expert-similarity', 'neuron-similarity', 'router-similarity'] as const;
export type StaticAnalysis = (typeof STATIC_ANALYSES)[number];

export interface LayerMatrices {
  layer: number;
  /** E×E matrices by name ('gate', 'up', 'down', 'router'), row-major. */
  matrices: Record<string, number[][]>;
  /** router-similarity: r² of router similarity on neuron-averaged similarity, per projection. */
  r2?: Record<Projection, number>;
  /** load-balance: the layer's summary numbers. */
  stats?: Record<string, number>;
}

const rowsOf = (m: Float64Array, E: number) => Array.from({ length: E }, (_, i) => Array.from(m.subarray(i * E, (i + 1) * E)));

export async function staticAnalysis(model: OpenedModel, analysis: StaticAnalysis, layers?: readonly number[]): Promise<LayerMatrices[]> {
  const H = model.spec.hiddenSize;
  const out: LayerMatrices[] = [];
  for (const index of layers ?? model.spec.moeLayers) {
    const spec = model.spec.layers[index]?.mlp;
    const weights = model.weights.layers[index]?.mlp;
    if (spec?.kind !== 'moe' || weights?.kind !== 'moe') throw new RangeError(`layer ${index} is not an MoE layer (MoE layers: ${model.spec.moeLayers.join(', ')})`);
    const E = spec.numExperts;
    const experts = await expertMatrices(weights, spec, H);
    const result: LayerMatrices = { layer: index, matrices: {} };
    if (analysis === 'expert-similarity') {
      for (const p of PROJECTIONS) result.matrices[p] = rowsOf(matrixSimilarity(experts, p), E);
    } else {
      const averaged = Object.fromEntries(PROJECTIONS.map((p) => [p, neuronAveragedSimilarity(experts, p, H)])) as Record<Projection, Float64Array>;
      for (const p of PROJECTIONS) result.matrices[p] = rowsOf(averaged[p], E);
      if (analysis === 'router-similarity') {
        const router = routerSimilarity(await tensorF32(weights.router), E);
        result.matrices['router'] = rowsOf(router, E);
        result.r2 = Object.fromEntries(PROJECTIONS.map((p) => [p, lowerTriangleR2(averaged[p], router, E)])) as Record<Projection, number>;
      }
    }
    out.push(result);
  }
  return out;
}

export function analysisCsv(layers: readonly LayerMatrices[]): string {
  const lines = ['layer,matrix,row,col,value'];
  for (const l of layers) {
    for (const [name, rows] of Object.entries(l.matrices)) rows.forEach((row, i) => row.forEach((v, j) => lines.push(`${l.layer},${name},${i},${j},${v}`)));
    for (const [p, r2] of Object.entries(l.r2 ?? {})) lines.push(`${l.layer},r2_router_vs_${p},,,${r2}`);
    for (const [name, v] of Object.entries(l.stats ?? {})) lines.push(`${l.layer},${name},,,${v}`);
  }
  return lines.join('\n') + '\n';
}
