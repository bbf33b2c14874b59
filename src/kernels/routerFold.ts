// A decode layer's post-attention RMSNorm and router folded through its attention output projection
// (shaders/router_fold.wgsl): the weights that let o_proj's dispatch compute the router logits (linear's
// FoldedRouter), saving the router's own dispatch.

import { storageBuffer } from '../gpu/buffers.ts';
import type { GpuContext } from '../gpu/context.ts';
import { dispatch } from '../gpu/dispatch.ts';
import { alignedRows, weightDtypeConstant, type WeightRef } from './weightRef.ts';

export interface RouterFoldWeights {
  router: WeightRef; // [E, H]
  normWeight: WeightRef; // [H], the RMSNorm before the router
  oProj: WeightRef; // [H, K], without bias
  numExperts: number; // E
  hidden: number; // H
  inputs: number; // K
}

/** Whether foldRouter takes these weights: one dtype for all three, and o_proj's rows streamed 16 bytes per load (matvec_rows). */
export function routerFoldable(a: RouterFoldWeights): boolean {
  const dtype = a.router.dtype;
  return a.normWeight.dtype === dtype && a.oProj.dtype === dtype && alignedRows(a.inputs, a.oProj);
}

/**
 * fold = [W_router · diag(g) ; W_router · diag(g) · W_o]  [E, H + K] f32, computed on the GPU and queued
 * now (before any step that reads it). A new buffer, for the caller to keep and destroy.
 */
export async function foldRouter(ctx: GpuContext, a: RouterFoldWeights, label: string): Promise<GPUBuffer> {
  if (!routerFoldable(a)) throw new RangeError(`${label}: router, norm weight and o_proj need one dtype and o_proj rows of a multiple of 8 values`);
  const { device } = ctx;
  const width = a.hidden + a.inputs;
  const fold = storageBuffer(device, a.numExperts * width * 4, label);
  const enc = device.createCommandEncoder({ label });
  await dispatch(ctx, enc, {
    shader: 'router_fold',
    constants: { WEIGHT_DTYPE: weightDtypeConstant(a.router.dtype) },
    params: [['u32', a.numExperts], ['u32', a.hidden], ['u32', a.inputs]],
    buffers: [a.router.buffer, a.normWeight.buffer, a.oProj.buffer, fold],
    grid: [Math.ceil(width / 256), a.numExperts],
  });
  device.queue.submit([enc.finish()]);
  return fold;
}
