// What a heatmap cell shows: the combine weight of a chosen expert (0 elsewhere), or the router's softmax
// probability for every expert.

import { softmaxRow } from '../analysis/routingStats.ts';
import type { HeatmapColour } from '../store/appStore.ts';
import type { LayerRows } from '../store/traceSlice.ts';

/** Cell values of one token row, in [0, 1] (weights can exceed 1 with a scaling factor: clamped by the colour scale). */
export function rowValues(layer: LayerRows, row: number, numExperts: number, colour: HeatmapColour): number[] {
  if (colour === 'probability') return softmaxRow(layer.routerLogits[row] ?? new Array<number>(numExperts).fill(0));
  const out = new Array<number>(numExperts).fill(0);
  const experts = layer.experts[row] ?? [];
  const weights = layer.weights[row] ?? [];
  experts.forEach((e, i) => (out[e] = weights[i] ?? 0));
  return out;
}
