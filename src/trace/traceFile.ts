// The routing trace file, format moescope.trace/1: what the CLI writes and the page exports and imports.
// Rows are in token order: the prompt tokens, then each generated token that was fed back.

import type { GenerationResult } from '../engine/engine.ts';
import type { ModelSpec } from '../model/spec.ts';

export const TRACE_FORMAT = 'moescope.trace/1';

export interface TraceFile {
  format: typeof TRACE_FORMAT;
  model: { architecture: string; numLayers: number; numExperts: number; topK: number; moeLayers: number[] };
  tokens: { id: number; text: string }[];
  promptLength: number;
  layers: { layer: number; routerLogits: number[][]; experts: number[][]; weights: number[][] }[];
  logits?: number[][];
}

/** The trace's summary of the model: what the views need to lay out its rows. */
export function traceModel(spec: ModelSpec): TraceFile['model'] {
  const moe = spec.layers.find((l) => l.mlp.kind === 'moe')?.mlp;
  return {
    architecture: spec.architecture,
    numLayers: spec.numLayers,
    numExperts: moe?.kind === 'moe' ? moe.numExperts : 0,
    topK: moe?.kind === 'moe' ? moe.topK : 0,
    moeLayers: spec.moeLayers,
  };
}

export function buildTrace(spec: ModelSpec, result: GenerationResult, tokenText: (id: number) => string): TraceFile {
  const trace: TraceFile = {
    format: TRACE_FORMAT,
    model: traceModel(spec),
    tokens: result.tokens.map((id) => ({ id, text: tokenText(id) })),
    promptLength: result.promptLength,
    layers: result.layers.map(({ layer, routerLogits, experts, weights }) => ({ layer, routerLogits, experts, weights })),
  };
  if (result.logits) trace.logits = result.logits;
  return trace;
}

export class TraceFormatError extends Error {
  override name = 'TraceFormatError';
}

const isNumberRows = (v: unknown, width: number): v is number[][] =>
  Array.isArray(v) && v.every((r) => Array.isArray(r) && r.length === width && r.every((x) => typeof x === 'number'));

/** Check an imported trace thoroughly enough that the views can trust its shapes. */
export function parseTrace(text: string, file = 'trace'): TraceFile {
  let t: Record<string, unknown>;
  try {
    t = JSON.parse(text) as Record<string, unknown>;
  } catch (error) {
    throw new TraceFormatError(`${file}: not valid JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  if (t?.['format'] !== TRACE_FORMAT) throw new TraceFormatError(`${file}: "format" must be "${TRACE_FORMAT}", found ${JSON.stringify(t?.['format'])}`);
  const model = t['model'] as TraceFile['model'] | undefined;
  const tokens = t['tokens'] as TraceFile['tokens'] | undefined;
  const layers = t['layers'] as TraceFile['layers'] | undefined;
  if (!model || !Number.isInteger(model.numExperts) || !Number.isInteger(model.topK)) throw new TraceFormatError(`${file}: "model" needs numExperts and topK`);
  if (!Array.isArray(tokens) || !tokens.every((x) => Number.isInteger(x?.id) && typeof x?.text === 'string')) throw new TraceFormatError(`${file}: "tokens" must be a list of {id, text}`);
  if (!Array.isArray(layers)) throw new TraceFormatError(`${file}: "layers" must be a list`);
  const rows = layers[0]?.experts.length ?? 0;
  for (const l of layers) {
    const ok = isNumberRows(l.routerLogits, model.numExperts) && isNumberRows(l.experts, model.topK) && isNumberRows(l.weights, model.topK);
    if (!ok || l.experts.length !== rows || l.routerLogits.length !== rows || l.weights.length !== rows) {
      throw new TraceFormatError(`${file}: layer ${l.layer} must have ${rows} rows of ${model.numExperts} router logits and ${model.topK} experts and weights`);
    }
  }
  if (rows > tokens.length) throw new TraceFormatError(`${file}: ${rows} routing rows but only ${tokens.length} tokens`);
  return t as unknown as TraceFile;
}
