// The routing paths' line batches against the paths written out one segment at a time from their
// definition (each token's top-2 experts in one MoE layer to its top-2 in the next, the last 512 tokens,
// width by the product of the two combine weights, colour by the token's first-layer top-1 expert).
import { describe, expect, it } from 'vitest';
import type { TraceState } from '../../src/store/traceSlice.ts';
import { pathGeometry } from '../../src/views/pathGeometry.ts';
import { seededRandom } from '../helpers/random.ts';

const [E, K, L] = [6, 3, 4];
const rand = seededRandom(5);
const rgb = new Float32Array(Array.from({ length: E * 3 }, (_, i) => (i + 1) / (E * 3)));

function trace(tokens: number, weights: () => number): TraceState {
  return {
    model: { architecture: 'OlmoeForCausalLM', numLayers: L, numExperts: E, topK: K, moeLayers: [0, 1, 2, 3] },
    promptLength: 1,
    tokens: Array.from({ length: tokens }, (_, id) => ({ id, text: `t${id}` })),
    layers: Array.from({ length: L }, (_, layer) => ({
      layer,
      routerLogits: [],
      experts: Array.from({ length: tokens }, () => [...Array(E).keys()].sort(() => rand() - 0.5).slice(0, K)),
      weights: Array.from({ length: tokens }, () => Array.from({ length: K }, weights)),
    })),
    source: 'run',
    version: 1,
  };
}

/** One string per segment: width bucket, newest or not, both ends, colour (as float32, as drawn). */
function expected(t: TraceState, selected: number | null): string[] {
  const f = Math.fround;
  const rows = t.layers[0]!.experts.length;
  const first = Math.max(0, rows - 512);
  const out: string[] = [];
  for (let tok = first; tok < rows; tok++) {
    const colour = t.layers[0]!.experts[tok]![0]!;
    const dim = selected === null || selected === tok ? 1 : 0.15;
    const rgbOf = [0, 1, 2].map((c) => f(rgb[colour * 3 + c]! * dim));
    for (let i = 0; i + 1 < L; i++) {
      for (let ra = 0; ra < 2; ra++) {
        for (let rb = 0; rb < 2; rb++) {
          const w = t.layers[i]!.weights[tok]![ra]! * t.layers[i + 1]!.weights[tok]![rb]!;
          const bucket = w <= 0.05 ? 0 : w <= 0.2 ? 1 : w <= 0.5 ? 2 : 3;
          const z = f((tok - first) * 0.6);
          const ends = [i * 6, t.layers[i]!.experts[tok]![ra]!, z, (i + 1) * 6, t.layers[i + 1]!.experts[tok]![rb]!, z];
          out.push(`${bucket} ${tok === rows - 1} ${ends.join(',')} ${[...rgbOf, ...rgbOf].join(',')}`);
        }
      }
    }
  }
  return out.sort();
}

function drawn(t: TraceState, selected: number | null): string[] {
  const out: string[] = [];
  for (const b of pathGeometry(t, rgb, selected).batches) {
    for (let s = 0; s < b.positions.length / 6; s++) {
      const ends = [...b.positions.subarray(s * 6, s * 6 + 6)];
      out.push(`${b.bucket} ${b.newest} ${ends.join(',')} ${[...b.colours.subarray(s * 6, s * 6 + 6)].join(',')}`);
    }
  }
  return out.sort();
}

describe('routing path geometry', () => {
  it('draws every segment of a short trace in its width batch, the newest token apart', () => {
    const t = trace(40, () => rand() * 0.9);
    const got = drawn(t, null);
    expect(got.length).toBe(40 * (L - 1) * 4);
    expect(got).toEqual(expected(t, null));
  });

  it('keeps the last 512 tokens of a long one, their depth from the first kept', () => {
    const t = trace(700, () => rand() * 0.9);
    expect(pathGeometry(t, rgb, null)).toMatchObject({ firstToken: 188, tokensDrawn: 512, segments: 512 * (L - 1) * 4 });
    expect(drawn(t, null)).toEqual(expected(t, null));
  });

  it('dims every token but the selected one', () => {
    const t = trace(30, () => rand() * 0.9);
    expect(drawn(t, 7)).toEqual(expected(t, 7));
  });

  it('puts a weight on a bucket bound into the narrower width', () => {
    // products of 1 and a bound are the bound itself
    const choices = [1, 0.05, 0.2, 0.5, 1, 0.3];
    const t = trace(60, () => choices[Math.floor(rand() * choices.length)]!);
    expect(drawn(t, null)).toEqual(expected(t, null));
  });
});
