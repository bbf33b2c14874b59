// The routing trace on screen: from a run in progress, a finished run, or an imported file.
// Rows are appended in place as steps arrive and `version` is bumped, so views redraw without copying
// thousands of rows per token.

import type { TraceFile } from '../trace/traceFile.ts';

export interface LayerRows {
  layer: number;
  routerLogits: number[][]; // [rows][E]
  experts: number[][]; // [rows][k]
  weights: number[][]; // [rows][k]
}

export interface TraceState {
  model: TraceFile['model'];
  promptLength: number;
  tokens: { id: number; text: string }[];
  layers: LayerRows[];
  /** Where it came from: a run on this page, or an imported file (its name). */
  source: 'run' | { file: string };
  /** A run's prompt as the user gave it (text, or ids as "1, 2, 3"): what the analyses start from. */
  promptText?: string;
  version: number;
}

export type RunStatus =
  | { kind: 'idle' }
  | { kind: 'running'; tokensPerSecond: number }
  | { kind: 'done'; stoppedBy: 'eos' | 'limit' | 'cancelled'; prefillMs: number; decodeMs: number; tokensPerSecond: number }
  | { kind: 'failed'; errorName: string; message: string };

export function traceToFile(t: TraceState): TraceFile {
  return {
    format: 'moescope.trace/1',
    model: t.model,
    tokens: t.tokens,
    promptLength: t.promptLength,
    layers: t.layers.map(({ layer, routerLogits, experts, weights }) => ({ layer, routerLogits, experts, weights })),
  };
}
