// Routing paths as line segments: for each token and each pair of consecutive MoE layers, segments from
// its chosen experts in one layer to its chosen experts in the next. x = MoE layer, y = expert,
// z = token (depth). Only each layer's top-2 choices are drawn, so k = 8 stays readable.
//
// The view redraws them on every update of a run (up to 512 tokens × (L − 1) layer pairs × 4 segments:
// 47,104 for 24 layers), so they are written straight into the typed arrays three.js draws from, one
// batch per line width, in two passes over the trace (count, then fill) and no object per segment.

import type { TraceState } from '../store/traceSlice.ts';

export const LAYER_SPACING = 6;
export const TOKEN_SPACING = 0.6;
export const DRAWN_RANKS = 2;
export const MAX_TOKENS_DRAWN = 512;
/** Line widths by the weight a segment carries: (upper bound of the weight, width in px), ascending. */
export const WEIGHT_BUCKETS: readonly (readonly [number, number])[] = [[0.05, 1], [0.2, 2], [0.5, 3.5], [Infinity, 5.5]];
/** How much a token's segments are dimmed while another token is selected. */
export const UNSELECTED_DIM = 0.15;

/** The segments of one line width, for the newest token or the others (the newest fades in). */
export interface PathBatch {
  /** Index into WEIGHT_BUCKETS. */
  bucket: number;
  newest: boolean;
  /** [segments, 2 ends, xyz] */
  positions: Float32Array;
  /** [segments, 2 ends, rgb]: the token's first-layer top-1 expert's colour, dimmed when not selected */
  colours: Float32Array;
}

export interface PathGeometry {
  batches: PathBatch[];
  segments: number;
  /** The first token drawn (MAX_TOKENS_DRAWN before the last) and how many are drawn. */
  firstToken: number;
  tokensDrawn: number;
}

/** A segment's weight is the product of its two combine weights: how much of the token's computation
 * flows along it. Its bucket is the first whose upper bound it does not exceed. */
function bucketOf(weight: number): number {
  let b = 0;
  while (weight > WEIGHT_BUCKETS[b]![0]) b++;
  return b;
}

/**
 * The trace's path segments in batches. `expertRgb` is [E, 3]: each expert's colour as the renderer takes
 * it; `selected` is the isolated token, if any.
 */
export function pathGeometry(trace: TraceState, expertRgb: Float32Array, selected: number | null): PathGeometry {
  const rows = trace.layers[0]?.experts.length ?? 0;
  const firstToken = Math.max(0, rows - MAX_TOKENS_DRAWN);
  const newestToken = rows - 1;
  const groups = WEIGHT_BUCKETS.length * 2; // (bucket, newest)
  const groupOf = (bucket: number, token: number) => bucket * 2 + (token === newestToken ? 1 : 0);

  // pass 1: segments per group
  const counts = new Array<number>(groups).fill(0);
  forEachSegment(trace, firstToken, rows, (t, _i, _ea, _eb, weight) => counts[groupOf(bucketOf(weight), t)]!++);

  // pass 2: fill
  const batches = counts.map((n, g) => ({ bucket: g >> 1, newest: (g & 1) === 1, positions: new Float32Array(n * 6), colours: new Float32Array(n * 6) }));
  const filled = new Array<number>(groups).fill(0);
  forEachSegment(trace, firstToken, rows, (t, i, ea, eb, weight) => {
    const g = groupOf(bucketOf(weight), t);
    const batch = batches[g]!;
    const at = filled[g]!++ * 6;
    const z = (t - firstToken) * TOKEN_SPACING;
    const p = batch.positions;
    p[at] = i * LAYER_SPACING;
    p[at + 1] = ea;
    p[at + 2] = z;
    p[at + 3] = (i + 1) * LAYER_SPACING;
    p[at + 4] = eb;
    p[at + 5] = z;
    const colourExpert = trace.layers[0]!.experts[t]![0] ?? 0;
    const dim = selected !== null && t !== selected ? UNSELECTED_DIM : 1;
    for (let end = 0; end < 2; end++) {
      for (let c = 0; c < 3; c++) batch.colours[at + end * 3 + c] = (expertRgb[colourExpert * 3 + c] ?? 0) * dim;
    }
  });
  const segments = counts.reduce((a, b) => a + b, 0);
  return { batches: batches.filter((b) => b.positions.length > 0), segments, firstToken, tokensDrawn: rows - firstToken };
}

/** Each drawn segment: token t, from (layer pair i, expert ea) to (i + 1, eb), with its weight. */
function forEachSegment(trace: TraceState, firstToken: number, rows: number, visit: (t: number, i: number, ea: number, eb: number, weight: number) => void): void {
  for (let i = 0; i + 1 < trace.layers.length; i++) {
    const a = trace.layers[i]!;
    const b = trace.layers[i + 1]!;
    for (let t = firstToken; t < rows; t++) {
      const [ea, wa, eb, wb] = [a.experts[t], a.weights[t], b.experts[t], b.weights[t]];
      if (!ea || !eb) continue;
      for (let ra = 0; ra < Math.min(DRAWN_RANKS, ea.length); ra++) {
        for (let rb = 0; rb < Math.min(DRAWN_RANKS, eb.length); rb++) {
          visit(t, i, ea[ra]!, eb[rb]!, (wa?.[ra] ?? 0) * (wb?.[rb] ?? 0));
        }
      }
    }
  }
}
