// Routing paths as line segments: for each token and each pair of consecutive MoE layers, segments from
// its chosen experts in one layer to its chosen experts in the next. x = MoE layer, y = expert,
// z = token (depth, from token 0; the view shifts the window's first token to z = 0). Only each layer's
// top-2 choices are drawn, so k = 8 stays readable.
//
// A run grows the paths by one token per step, and the view draws up to 512 tokens × (L − 1) layer pairs
// × 4 segments (47,104 for 24 layers). So they come in pieces that the view keeps while their key stays:
// whole chunks of CHUNK_TOKENS tokens, written once, when their last token is no longer the newest, and
// kept until they leave the window; the window's partial first and last chunks and the newest token (which
// fades in) are written anew on each update. Each piece is written straight into the typed arrays three.js
// draws from, one batch per line width, in two passes (count, then fill) and no object per segment.

import type { TraceState } from '../store/traceSlice.ts';

export const LAYER_SPACING = 6;
export const TOKEN_SPACING = 0.6;
export const DRAWN_RANKS = 2;
export const MAX_TOKENS_DRAWN = 512;
/** Tokens per chunk that is written once and kept (see top). */
export const CHUNK_TOKENS = 32;
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

/** The segments of tokens [from, to), in batches; `key` names them, so the view keeps a piece while its key stays. */
export interface PathPiece {
  key: string;
  batches: PathBatch[];
  segments: number;
}

export interface PathGeometry {
  pieces: PathPiece[];
  segments: number;
  /** The first token drawn (MAX_TOKENS_DRAWN before the last) and how many are drawn. */
  firstToken: number;
  tokensDrawn: number;
}

/**
 * The trace's path pieces, update by update. `expertRgb` is [E, 3]: each expert's colour as the renderer
 * takes it; `selected` is the isolated token, if any. The whole chunks are kept while the trace (rows
 * appended in place), the colours and the selection stay the same objects and values.
 */
export class PathGeometryBuilder {
  private trace: TraceState | null = null;
  private expertRgb: Float32Array | null = null;
  private selected: number | null = null;
  private rows = 0;
  /** Bumped whenever the kept chunks are dropped: in every key, so that the view redraws every piece. */
  private generation = 0;
  private readonly chunks = new Map<number, PathPiece>();

  update(trace: TraceState, expertRgb: Float32Array, selected: number | null): PathGeometry {
    // rows present in every layer (a step appends all layers' rows at once)
    const rows = trace.layers.length === 0 ? 0 : Math.min(...trace.layers.map((l) => l.experts.length));
    if (trace !== this.trace || expertRgb !== this.expertRgb || selected !== this.selected || rows < this.rows) {
      this.chunks.clear();
      this.generation++;
      [this.trace, this.expertRgb, this.selected] = [trace, expertRgb, selected];
    }
    this.rows = rows;
    const firstToken = Math.max(0, rows - MAX_TOKENS_DRAWN);
    const newest = rows - 1;
    for (const c of this.chunks.keys()) if ((c + 1) * CHUNK_TOKENS <= firstToken) this.chunks.delete(c);

    const piece = (key: string, from: number, to: number) => pathPiece(`${this.generation} ${key}`, trace, from, to, newest, expertRgb, selected);
    const pieces: PathPiece[] = [];
    for (let from = firstToken; from < newest; ) {
      const c = Math.floor(from / CHUNK_TOKENS);
      const to = Math.min((c + 1) * CHUNK_TOKENS, newest);
      if (from === c * CHUNK_TOKENS && to === (c + 1) * CHUNK_TOKENS) {
        let chunk = this.chunks.get(c);
        if (!chunk) this.chunks.set(c, (chunk = piece(`chunk ${c}`, from, to)));
        pieces.push(chunk);
      } else {
        pieces.push(piece(`part ${from}-${to}`, from, to));
      }
      from = to;
    }
    if (newest >= 0) pieces.push(piece(`newest ${newest}`, newest, rows));
    return { pieces, segments: pieces.reduce((n, p) => n + p.segments, 0), firstToken, tokensDrawn: rows - firstToken };
  }
}

/** A segment's weight is the product of its two combine weights: how much of the token's computation
 * flows along it. Its bucket is the first whose upper bound it does not exceed. */
function bucketOf(weight: number): number {
  let b = 0;
  while (weight > WEIGHT_BUCKETS[b]![0]) b++;
  return b;
}

/** The segments of tokens [from, to) in batches by width (the newest token's apart). */
function pathPiece(key: string, trace: TraceState, from: number, to: number, newestToken: number, expertRgb: Float32Array, selected: number | null): PathPiece {
  const groups = WEIGHT_BUCKETS.length * 2; // (bucket, newest)
  const groupOf = (bucket: number, token: number) => bucket * 2 + (token === newestToken ? 1 : 0);

  // pass 1: segments per group
  const counts = new Array<number>(groups).fill(0);
  forEachSegment(trace, from, to, (t, _i, _ea, _eb, weight) => counts[groupOf(bucketOf(weight), t)]!++);

  // pass 2: fill
  const batches = counts.map((n, g) => ({ bucket: g >> 1, newest: (g & 1) === 1, positions: new Float32Array(n * 6), colours: new Float32Array(n * 6) }));
  const filled = new Array<number>(groups).fill(0);
  forEachSegment(trace, from, to, (t, i, ea, eb, weight) => {
    const g = groupOf(bucketOf(weight), t);
    const batch = batches[g]!;
    const at = filled[g]!++ * 6;
    const z = t * TOKEN_SPACING;
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
  return { key, batches: batches.filter((b) => b.positions.length > 0), segments };
}

/** Each drawn segment of tokens [from, to): token t, from (layer pair i, expert ea) to (i + 1, eb), with its weight. */
function forEachSegment(trace: TraceState, from: number, to: number, visit: (t: number, i: number, ea: number, eb: number, weight: number) => void): void {
  for (let i = 0; i + 1 < trace.layers.length; i++) {
    const a = trace.layers[i]!;
    const b = trace.layers[i + 1]!;
    for (let t = from; t < to; t++) {
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
