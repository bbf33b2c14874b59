// Router scoring and top-k expert selection (shaders/softmax_topk.wgsl): one workgroup per token.

import { allocate, type Encoder } from '../gpu/recorder.ts';
import { dispatchGrid, readBuffer, uploadStorage, type Binding } from '../gpu/buffers.ts';
import type { GpuContext } from '../gpu/context.ts';
import { dispatch, packParams, type ParamField } from '../gpu/dispatch.ts';

export const SOFTMAX_TOPK_MAX_K = 8;
export const SOFTMAX_TOPK_WORKGROUP_SIZE = 64;

export interface SoftmaxTopKShape {
  numTokens: number; // T
  numExperts: number; // E
  topK: number; // k ≤ 8
  /** Divide the k weights by their sum (Mixtral, Qwen3-MoE) or keep them as probabilities (OLMoE). */
  renormalize: boolean;
}

export interface SoftmaxTopKBuffers<Out = GPUBuffer> {
  probs: GPUBuffer; // [T, E] f32
  expertIds: Out; // [T, k] u32, rank order
  weights: Out; // [T, k] f32
}

export class KernelShapeError extends Error {
  constructor(kernel: string, message: string) {
    super(`${kernel}: ${message}`);
    this.name = 'KernelShapeError';
  }
}

function checkShape(s: SoftmaxTopKShape): void {
  const ints = [s.numTokens, s.numExperts, s.topK].every((n) => Number.isInteger(n) && n >= 1);
  if (!ints) throw new KernelShapeError('softmaxTopK', `sizes must be positive integers, got T=${s.numTokens} E=${s.numExperts} k=${s.topK}`);
  if (s.topK > SOFTMAX_TOPK_MAX_K) throw new KernelShapeError('softmaxTopK', `top-k is at most ${SOFTMAX_TOPK_MAX_K}, got ${s.topK}`);
  if (s.topK > s.numExperts) throw new KernelShapeError('softmaxTopK', `top-k (${s.topK}) exceeds the expert count (${s.numExperts})`);
}

/** Params fields in the shader's order: numTokens, numExperts, topK, renormalize (u32 each). */
function softmaxTopKParams(s: SoftmaxTopKShape): ParamField[] {
  return [['u32', s.numTokens], ['u32', s.numExperts], ['u32', s.topK], ['u32', s.renormalize ? 1 : 0]];
}

/** The Params uniform's bytes. */
export function packSoftmaxTopKParams(s: SoftmaxTopKShape): ArrayBuffer {
  return packParams(softmaxTopKParams(s));
}

/** Record the kernel into `encoder`, reading `logits` ([T, E] f32), writing `into` or fresh output buffers. */
export async function encodeSoftmaxTopK(ctx: GpuContext, encoder: Encoder, logits: Binding, shape: SoftmaxTopKShape): Promise<SoftmaxTopKBuffers>;
export async function encodeSoftmaxTopK(ctx: GpuContext, encoder: Encoder, logits: Binding, shape: SoftmaxTopKShape, into: { expertIds: Binding; weights: Binding }): Promise<SoftmaxTopKBuffers<Binding>>;
export async function encodeSoftmaxTopK(
  ctx: GpuContext,
  encoder: Encoder,
  logits: Binding,
  shape: SoftmaxTopKShape,
  into?: { expertIds: Binding; weights: Binding },
): Promise<SoftmaxTopKBuffers<Binding>> {
  checkShape(shape);
  const { numTokens: T, numExperts: E, topK: k } = shape;
  const out: SoftmaxTopKBuffers<Binding> = {
    probs: allocate(ctx, encoder, T * E * 4, 'router probs [T,E]'),
    expertIds: into?.expertIds ?? allocate(ctx, encoder, T * k * 4, 'expert ids [T,k]'),
    weights: into?.weights ?? allocate(ctx, encoder, T * k * 4, 'combine weights [T,k]'),
  };
  await dispatch(ctx, encoder, {
    shader: 'softmax_topk',
    constants: { WORKGROUP_SIZE: SOFTMAX_TOPK_WORKGROUP_SIZE },
    params: softmaxTopKParams(shape),
    buffers: [logits, out.probs, out.expertIds, out.weights],
    grid: dispatchGrid(T, ctx.device.limits.maxComputeWorkgroupsPerDimension),
  });
  return out;
}

export interface SoftmaxTopKResult {
  probs: Float32Array; // [T, E]
  expertIds: Uint32Array; // [T, k]
  weights: Float32Array; // [T, k]
}

/** Upload, run, read back: for tests, the CLI and the page's self-test. */
export async function runSoftmaxTopK(
  ctx: GpuContext,
  logits: Float32Array,
  shape: SoftmaxTopKShape,
): Promise<SoftmaxTopKResult> {
  checkShape(shape);
  if (logits.length !== shape.numTokens * shape.numExperts) {
    throw new KernelShapeError('softmaxTopK', `logits hold ${logits.length} values, expected T×E = ${shape.numTokens * shape.numExperts}`);
  }
  const { device } = ctx;
  const { numTokens: T, numExperts: E, topK: k } = shape;
  return ctx.checked('softmaxTopK', async () => {
    const input = uploadStorage(device, logits, 'router logits [T,E]');
    const encoder = device.createCommandEncoder({ label: 'softmax_topk' });
    const out = await encodeSoftmaxTopK(ctx, encoder, input, shape);
    device.queue.submit([encoder.finish()]);
    const [probs, expertIds, weights] = await Promise.all([
      readBuffer(device, out.probs, T * E * 4),
      readBuffer(device, out.expertIds, T * k * 4),
      readBuffer(device, out.weights, T * k * 4),
    ]);
    for (const b of [input, out.probs, out.expertIds, out.weights]) b.destroy();
    return { probs: new Float32Array(probs), expertIds: new Uint32Array(expertIds), weights: new Float32Array(weights) };
  });
}
