// The GPU self-test: route random logits through the softmax + top-k kernel and compare with the plain-TS
// reference. Tells a user in one click whether their browser's WebGPU computes what MoEScope expects.

import type { GpuContext } from '../gpu/context.ts';
import { softmaxTopKReference } from '../reference/softmaxTopK.ts';
import { runSoftmaxTopK } from './softmaxTopK.ts';

export interface SelfTestResult {
  passed: boolean;
  /** Largest |GPU − reference| over probabilities and weights. */
  maxError: number;
  mismatchedExperts: number;
  tokens: number;
  experts: number;
  milliseconds: number;
}

/** Logits from a fixed-seed LCG, so every browser tests the same numbers. */
function fixedLogits(count: number): Float32Array {
  const out = new Float32Array(count);
  let state = 12345;
  for (let i = 0; i < count; i++) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    out[i] = (state / 2 ** 32 - 0.5) * 8;
  }
  return out;
}

export async function runGpuSelfTest(gpu: GpuContext): Promise<SelfTestResult> {
  const shape = { numTokens: 64, numExperts: 64, topK: 8, renormalize: true };
  const logits = fixedLogits(shape.numTokens * shape.numExperts);
  const start = performance.now();
  const got = await runSoftmaxTopK(gpu, logits, shape);
  const milliseconds = performance.now() - start;
  const want = softmaxTopKReference(logits, shape);
  let maxError = 0;
  for (let i = 0; i < want.probs.length; i++) maxError = Math.max(maxError, Math.abs((got.probs[i] ?? NaN) - (want.probs[i] ?? NaN)));
  for (let i = 0; i < want.weights.length; i++) maxError = Math.max(maxError, Math.abs((got.weights[i] ?? NaN) - (want.weights[i] ?? NaN)));
  let mismatchedExperts = 0;
  for (let i = 0; i < want.expertIds.length; i++) if (got.expertIds[i] !== want.expertIds[i]) mismatchedExperts++;
  const passed = maxError < 1e-5 && mismatchedExperts === 0;
  return { passed, maxError, mismatchedExperts, tokens: shape.numTokens, experts: shape.numExperts, milliseconds };
}
