// What a heatmap cell shows: the combine weight of a chosen expert (0 elsewhere), or the router's softmax
// probability for every expert.

import { softmaxRow } from '../analysis/routingStats.ts';
import type { HeatmapColour } from '../store/appStore.ts';
import type { LayerRows } from '../store/traceSlice.ts';
import { viridis } from './colour.ts';

/** Cell values of one token row, in [0, 1] (weights can exceed 1 with a scaling factor: clamped by the colour scale). */
export function rowValues(layer: LayerRows, row: number, numExperts: number, colour: HeatmapColour): number[] {
  if (colour === 'probability') return softmaxRow(layer.routerLogits[row] ?? new Array<number>(numExperts).fill(0));
  const out = new Array<number>(numExperts).fill(0);
  const experts = layer.experts[row] ?? [];
  const weights = layer.weights[row] ?? [];
  experts.forEach((e, i) => (out[e] = weights[i] ?? 0));
  return out;
}

/** A layer's heatmap so far as RGBA, one pixel per cell: [rows, E, 4]. */
interface LayerPixels {
  colour: HeatmapColour;
  numExperts: number;
  rows: number;
  data: Uint8ClampedArray<ArrayBuffer>; // capacity ≥ rows · E · 4
}

const pixelCache = new WeakMap<LayerRows, LayerPixels>();

/**
 * The layer's cells as RGBA pixels (for an ImageData), one pixel per cell. A run's rows are only ever appended to the same
 * LayerRows, so only the rows added since the last call are coloured (redrawing every cell each frame
 * took the page's thread ~300 ms per update at 1,000 tokens × 24 layers on an H100 host). Null before any row.
 */
export function layerPixels(layer: LayerRows, numExperts: number, colour: HeatmapColour): { rgba: Uint8ClampedArray<ArrayBuffer>; width: number; height: number } | null {
  const rows = layer.experts.length;
  if (rows === 0) return null;
  let p = pixelCache.get(layer);
  if (!p || p.colour !== colour || p.numExperts !== numExperts || p.rows > rows) {
    p = { colour, numExperts, rows: 0, data: new Uint8ClampedArray(0) };
    pixelCache.set(layer, p);
  }
  const needed = rows * numExperts * 4;
  if (p.data.length < needed) {
    const grown = new Uint8ClampedArray(Math.max(needed, 2 * p.data.length));
    grown.set(p.data.subarray(0, p.rows * numExperts * 4));
    p.data = grown;
  }
  for (let r = p.rows; r < rows; r++) {
    const values = rowValues(layer, r, numExperts, colour);
    for (let e = 0; e < numExperts; e++) {
      const [red, green, blue] = viridis(values[e]!);
      const i = (r * numExperts + e) * 4;
      p.data[i] = red;
      p.data[i + 1] = green;
      p.data[i + 2] = blue;
      p.data[i + 3] = 255;
    }
  }
  p.rows = rows;
  return { rgba: p.data.subarray(0, needed), width: numExperts, height: rows };
}
