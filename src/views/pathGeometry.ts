// Routing paths as line segments: for each token and each pair of consecutive MoE layers, segments from
// its chosen experts in one layer to its chosen experts in the next. x = MoE layer, y = expert,
// z = token (depth). Only each layer's top-2 choices are drawn, so k = 8 stays readable.

import type { TraceState } from '../store/traceSlice.ts';

export interface PathSegment {
  token: number;
  from: [number, number, number];
  to: [number, number, number];
  /** Product of the two combine weights: how much of the token's computation flows along it. */
  weight: number;
  /** Top-1 expert of the token in the first MoE layer (its colour). */
  colourExpert: number;
}

export const LAYER_SPACING = 6;
export const TOKEN_SPACING = 0.6;
export const DRAWN_RANKS = 2;
export const MAX_TOKENS_DRAWN = 512;

export function pathSegments(trace: TraceState): PathSegment[] {
  const rows = trace.layers[0]?.experts.length ?? 0;
  const first = Math.max(0, rows - MAX_TOKENS_DRAWN);
  const out: PathSegment[] = [];
  for (let t = first; t < rows; t++) {
    const colourExpert = trace.layers[0]?.experts[t]?.[0] ?? 0;
    const z = (t - first) * TOKEN_SPACING;
    for (let i = 0; i + 1 < trace.layers.length; i++) {
      const a = trace.layers[i]!;
      const b = trace.layers[i + 1]!;
      for (let ra = 0; ra < Math.min(DRAWN_RANKS, a.experts[t]?.length ?? 0); ra++) {
        for (let rb = 0; rb < Math.min(DRAWN_RANKS, b.experts[t]?.length ?? 0); rb++) {
          out.push({
            token: t,
            from: [i * LAYER_SPACING, a.experts[t]![ra]!, z],
            to: [(i + 1) * LAYER_SPACING, b.experts[t]![rb]!, z],
            weight: (a.weights[t]?.[ra] ?? 0) * (b.weights[t]?.[rb] ?? 0),
            colourExpert,
          });
        }
      }
    }
  }
  return out;
}
