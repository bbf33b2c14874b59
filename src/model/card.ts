// The model card: what the page and `moescope inspect` show about a loaded checkpoint.

import type { Checkpoint, TensorEntry } from '../checkpoint/checkpoint.ts';
import type { ModelSpec } from './spec.ts';
import { weightTensors, type ModelWeights, type SwiGluWeights } from './weights.ts';

export interface ModelCard {
  architecture: string;
  totalParameters: number;
  /** Parameters one token touches: everything but the routed experts it is not sent to. */
  activeParameters: number;
  numLayers: number;
  moeLayers: number[];
  numExperts: number;
  topK: number;
  sharedExperts: string;
  dtype: string;
  files: { name: string; bytes: number }[];
  weightBytes: number;
}

const numel = (t: TensorEntry) => t.shape.reduce((a, b) => a * b, 1);

const swigluParams = (w: SwiGluWeights) => numel(w.gate) + numel(w.up) + numel(w.down);

export function modelCard(spec: ModelSpec, weights: ModelWeights, checkpoint: Checkpoint): ModelCard {
  const tensors = weightTensors(weights);
  const totalParameters = [...tensors].reduce((n, t) => n + numel(t), 0);
  let inactive = 0;
  for (const [i, layer] of weights.layers.entries()) {
    const mlpSpec = spec.layers[i]?.mlp;
    if (layer.mlp.kind !== 'moe' || mlpSpec?.kind !== 'moe') continue;
    const experts = layer.mlp.experts;
    const routed =
      experts.layout === 'per-expert' ? experts.experts.reduce((n, e) => n + swigluParams(e), 0) : numel(experts.gateUp) + numel(experts.down);
    inactive += (routed * (mlpSpec.numExperts - mlpSpec.topK)) / mlpSpec.numExperts;
  }
  const firstMoe = spec.layers.find((l) => l.mlp.kind === 'moe')?.mlp;
  const moe = firstMoe?.kind === 'moe' ? firstMoe : null;
  const dtypes = [...new Set([...tensors].map((t) => t.dtype))].sort();
  return {
    architecture: spec.architecture,
    totalParameters,
    activeParameters: Math.round(totalParameters - inactive),
    numLayers: spec.numLayers,
    moeLayers: spec.moeLayers,
    numExperts: moe?.numExperts ?? 0,
    topK: moe?.topK ?? 0,
    sharedExperts: moe?.sharedExpert
      ? `width ${moe.sharedExpert.intermediateSize}${moe.sharedExpert.gated ? ', sigmoid-gated' : ''}`
      : 'none',
    dtype: dtypes.join(', '),
    files: checkpoint.weightFiles.map((f) => ({ name: f.source.name, bytes: f.source.size })),
    weightBytes: [...tensors].reduce((n, t) => n + t.byteLength, 0),
  };
}
