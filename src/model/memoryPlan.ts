// How much GPU memory a model needs before anything is uploaded, checked against the adapter's limits.
// WebGPU does not say how much memory a GPU has; what it does say (largest buffer, largest binding) is
// checked here, and a tensor larger than one binding is planned as several.

import { CheckpointError } from '../checkpoint/errors.ts';
import type { ModelSpec } from './spec.ts';
import { weightTensors, type ModelWeights } from './weights.ts';

export interface DeviceLimits {
  maxBufferSize: number;
  maxStorageBufferBindingSize: number;
}

export interface MemoryPlan {
  weightBytes: number;
  /** f32 keys and values for `contextLength` positions in every layer. */
  kvCacheBytes: number;
  /** Scratch for a prefill of `prefillTokens` tokens (f32 activations, router outputs, logits). */
  activationBytes: number;
  totalBytes: number;
  contextLength: number;
  /** Tensors larger than one storage binding, with the number of pieces each is split into. */
  splitTensors: { name: string; bytes: number; pieces: number }[];
}

export class MemoryPlanError extends CheckpointError {
  override name = 'MemoryPlanError';
}

export function planMemory(
  spec: ModelSpec,
  weights: ModelWeights,
  limits: DeviceLimits,
  options: { contextLength: number; prefillTokens?: number; deviceMemoryBytes?: number },
): MemoryPlan {
  const { contextLength } = options;
  const tokens = Math.min(options.prefillTokens ?? 512, contextLength);
  const tensors = weightTensors(weights);
  const weightBytes = tensors.reduce((n, t) => n + t.byteLength, 0);

  let kvPerPosition = 0;
  let widest = 0;
  for (const layer of spec.layers) {
    const a = layer.attention;
    kvPerPosition += a.kind === 'gqa' ? 2 * a.numKvHeads * a.headDim : a.numHeads * (a.qkNopeHeadDim + a.qkRopeHeadDim + a.vHeadDim);
    const m = layer.mlp;
    widest = Math.max(widest, m.kind === 'dense' ? m.intermediateSize : m.expertIntermediateSize * m.topK + (m.sharedExpert?.intermediateSize ?? 0));
    if (m.kind === 'moe') widest = Math.max(widest, m.numExperts * 2);
  }
  const kvCacheBytes = kvPerPosition * contextLength * 4;
  const activationBytes = tokens * (6 * spec.hiddenSize + 3 * widest + spec.vocabSize) * 4;

  const splitTensors = tensors
    .filter((t) => t.byteLength > limits.maxStorageBufferBindingSize)
    .map((t) => ({ name: t.name, bytes: t.byteLength, pieces: Math.ceil(t.byteLength / limits.maxStorageBufferBindingSize) }));

  const largestCache = (kvPerPosition / Math.max(1, spec.numLayers)) * contextLength * 4;
  if (largestCache > limits.maxBufferSize) {
    throw new MemoryPlanError(
      `a context of ${contextLength} tokens needs ${(largestCache / 2 ** 20).toFixed(0)} MiB of KV cache per layer, ` +
        `more than this GPU's largest buffer (${(limits.maxBufferSize / 2 ** 20).toFixed(0)} MiB): choose a shorter context`,
    );
  }
  const totalBytes = weightBytes + kvCacheBytes + activationBytes;
  if (options.deviceMemoryBytes !== undefined && totalBytes > options.deviceMemoryBytes) {
    const gib = (n: number) => `${(n / 2 ** 30).toFixed(2)} GiB`;
    throw new MemoryPlanError(
      `the model needs ${gib(totalBytes)} of GPU memory (weights ${gib(weightBytes)}, KV cache ${gib(kvCacheBytes)} for ` +
        `${contextLength} tokens, activations ${gib(activationBytes)}) but only ${gib(options.deviceMemoryBytes)} is available`,
    );
  }
  return { weightBytes, kvCacheBytes, activationBytes, totalBytes, contextLength, splitTensors };
}
