// The routing paths' line batches against the paths written out one segment at a time from their
// definition (each token's top-2 experts in one MoE layer to its top-2 in the next, the last 512 tokens,
// width by the product of the two combine weights, colour by the token's first-layer top-1 expert, depth
// by the token's index), whether written at once or kept chunk by chunk while a run appends tokens.
import { describe, expect, it } from 'vitest';
import type { TraceState } from '../../src/store/traceSlice.ts';
import { PathGeometryBuilder, type PathGeometry } from '../../src/views/pathGeometry.ts';
import { seededRandom } from '../helpers/random.ts';

const [E, K, L] = [6, 3, 4];
const rand = seededRandom(5);
const rgb = new Float32Array(Array.from({ length: E * 3 }, (_, i) => (i + 1) / (E * 3)));

/** Rows for `tokens` tokens of every layer. */
function layerRows(tokens: number, weights: () => number) {
  return {
    experts: Array.from({ length: tokens }, () => [...Array(E).keys()].sort(() => rand() - 0.5).slice(0, K)),
    weights: Array.from({ length: tokens }, () => Array.from({ length: K }, weights)),
  };
}

function trace(tokens: number, weights: () => number): TraceState {
  return {
    model: { architecture: 'OlmoeForCausalLM', numLayers: L, numExperts: E, topK: K, moeLayers: [0, 1, 2, 3] },
    promptLength: 1,
    tokens: Array.from({ length: tokens }, (_, id) => ({ id, text: `t${id}` })),
    layers: Array.from({ length: L }, (_, layer) => ({ layer, routerLogits: [], ...layerRows(tokens, weights) })),
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
          const z = f(tok * 0.6);
          const ends = [i * 6, t.layers[i]!.experts[tok]![ra]!, z, (i + 1) * 6, t.layers[i + 1]!.experts[tok]![rb]!, z];
          out.push(`${bucket} ${tok === rows - 1} ${ends.join(',')} ${[...rgbOf, ...rgbOf].join(',')}`);
        }
      }
    }
  }
  return out.sort();
}

/** The geometry of a builder that has kept nothing yet. */
function built(t: TraceState, selected: number | null): PathGeometry {
  return new PathGeometryBuilder().update(t, rgb, selected);
}

function drawn(t: TraceState, selected: number | null): string[] {
  return segmentsOf(built(t, selected));
}

function segmentsOf(g: PathGeometry): string[] {
  const out: string[] = [];
  for (const b of g.pieces.flatMap((p) => p.batches)) {
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
    expect(built(t, null)).toMatchObject({ firstToken: 188, tokensDrawn: 512, segments: 512 * (L - 1) * 4 });
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

  it('keeps whole chunks while a run appends tokens past the window, and redraws all after a selection', () => {
    const t = trace(3, () => rand() * 0.9);
    const builder = new PathGeometryBuilder();
    let selected: number | null = null;
    let previous = builder.update(t, rgb, selected);
    for (let rows = 4; rows <= 700; rows++) {
      const step = layerRows(1, () => rand() * 0.9);
      for (const layer of t.layers) {
        layer.experts.push(step.experts[0]!);
        layer.weights.push(step.weights[0]!);
      }
      t.version++;
      if (rows === 300) selected = 290;
      const g = builder.update(t, rgb, selected);
      // a chunk drawn in the last update is the same piece now, unless the selection changed
      const kept = g.pieces.filter((p) => previous.pieces.includes(p)).length;
      if (rows === 300) expect(kept).toBe(0);
      else expect(kept).toBe(g.pieces.filter((p) => p.key.includes('chunk')).length - (rows % 32 === 1 ? 1 : 0));
      expect(new Set(g.pieces.map((p) => p.key)).size).toBe(g.pieces.length);
      if (rows % 61 === 0 || rows > 690 || rows === 300) expect(segmentsOf(g)).toEqual(expected(t, selected));
      previous = g;
    }
    expect(previous).toMatchObject({ firstToken: 188, tokensDrawn: 512 });
    // at most three pieces written anew per token: the window's partial first and last chunks and the newest
    expect(previous.pieces.filter((p) => !p.key.includes('chunk')).length).toBeLessThanOrEqual(3);
  });
});
