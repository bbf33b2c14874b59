// The heatmaps' pixels are coloured only for rows added since the last frame: after every append, colour
// switch and growth they must equal every cell coloured afresh (a plain softmax and weight lookup here).
import { describe, expect, it } from 'vitest';
import type { LayerRows } from '../../src/store/traceSlice.ts';
import { viridis } from '../../src/views/colour.ts';
import { layerPixels } from '../../src/views/heatmapData.ts';
import { seededRandom } from '../helpers/random.ts';

const E = 6;
const K = 2;
const rand = seededRandom(11);

function appendRows(layer: LayerRows, n: number): void {
  for (let i = 0; i < n; i++) {
    const logits = Array.from({ length: E }, () => rand() * 8 - 4);
    const experts = [...logits.keys()].sort((a, b) => logits[b]! - logits[a]!).slice(0, K);
    layer.routerLogits.push(logits);
    layer.experts.push(experts);
    layer.weights.push(experts.map(() => rand()));
  }
}

/** Every cell of the layer, coloured from scratch. */
function expected(layer: LayerRows, colour: 'weight' | 'probability'): number[] {
  const out: number[] = [];
  layer.experts.forEach((chosen, r) => {
    const logits = layer.routerLogits[r]!;
    const max = Math.max(...logits);
    const sum = logits.reduce((s, l) => s + Math.exp(l - max), 0);
    for (let e = 0; e < E; e++) {
      const at = chosen.indexOf(e);
      const value = colour === 'probability' ? Math.exp(logits[e]! - max) / sum : at >= 0 ? layer.weights[r]![at]! : 0;
      out.push(...Uint8ClampedArray.from(viridis(value)), 255);
    }
  });
  return out;
}

describe('heatmap pixels, coloured row by row as a run appends', () => {
  it('equal the whole layer coloured afresh after appends, colour switches and growth', () => {
    const layer: LayerRows = { layer: 3, routerLogits: [], experts: [], weights: [] };
    expect(layerPixels(layer, E, 'weight')).toBeNull();
    for (const [append, colour] of [[3, 'weight'], [5, 'weight'], [0, 'probability'], [1, 'probability'], [100, 'probability'], [2, 'weight']] as const) {
      appendRows(layer, append);
      const pixels = layerPixels(layer, E, colour)!;
      expect([pixels.width, pixels.height]).toEqual([E, layer.experts.length]);
      expect(Array.from(pixels.rgba), `${layer.experts.length} rows, ${colour}`).toEqual(expected(layer, colour));
    }
  });

  it('keeps each layer apart, and starts again for a new run of the same layer', () => {
    const a: LayerRows = { layer: 0, routerLogits: [], experts: [], weights: [] };
    const b: LayerRows = { layer: 1, routerLogits: [], experts: [], weights: [] };
    appendRows(a, 7);
    appendRows(b, 4);
    expect(Array.from(layerPixels(a, E, 'weight')!.rgba)).toEqual(expected(a, 'weight'));
    expect(Array.from(layerPixels(b, E, 'weight')!.rgba)).toEqual(expected(b, 'weight'));
    const rerun: LayerRows = { layer: 0, routerLogits: [], experts: [], weights: [] };
    appendRows(rerun, 2);
    expect(Array.from(layerPixels(rerun, E, 'weight')!.rgba)).toEqual(expected(rerun, 'weight'));
  });
});
