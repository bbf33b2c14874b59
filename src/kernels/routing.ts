// Host side of expert selection for every routing rule: softmax-based rules run softmax_topk.wgsl,
// sparsemixer and DeepSeek's sigmoid group rule run router_select.wgsl.

import { allocate, type Encoder } from '../gpu/recorder.ts';
import { dispatch } from '../gpu/dispatch.ts';
import { dispatchGrid, type Binding } from '../gpu/buffers.ts';
import type { GpuContext } from '../gpu/context.ts';
import type { RoutingRule } from '../model/spec.ts';
import { encodeSoftmaxTopK } from './softmaxTopK.ts';

export interface Selection {
  expertIds: Binding; // [T, k] u32, rank order
  weights: Binding; // [T, k] f32
}

/**
 * For the softmax rules, whether their k weights are renormalised (Mixtral's top-k then softmax equals
 * renormalising the top-k of the softmax); null for the rules router_select runs.
 */
export function softmaxRenormalizes(rule: RoutingRule): boolean | null {
  if (rule.kind === 'softmax-topk') return rule.normalize;
  if (rule.kind === 'topk-softmax') return true;
  return null;
}

export async function selectExperts(
  ctx: GpuContext,
  enc: Encoder,
  a: { logits: Binding; rule: RoutingRule; numTokens: number; numExperts: number; topK: number; correctionBias: GPUBuffer | null; into?: Selection },
): Promise<Selection> {
  const { rule, numTokens: T, numExperts: E, topK: k } = a;
  const renormalize = softmaxRenormalizes(rule);
  if (renormalize !== null) {
    const shape = { numTokens: T, numExperts: E, topK: k, renormalize };
    const out = a.into ? await encodeSoftmaxTopK(ctx, enc, a.logits, shape, a.into) : await encodeSoftmaxTopK(ctx, enc, a.logits, shape);
    return { expertIds: out.expertIds, weights: out.weights };
  }
  if (E > 256 || k > 8) throw new RangeError(`router_select supports E ≤ 256 and k ≤ 8, got E=${E} k=${k}`);
  if (rule.kind === 'sparsemixer' && k !== 2) throw new RangeError(`sparsemixer routing needs top-2, got top-${k}`);
  const expertIds = a.into?.expertIds ?? allocate(ctx, enc, T * k * 4, 'expert ids [T,k]');
  const weights = a.into?.weights ?? allocate(ctx, enc, T * k * 4, 'combine weights [T,k]');
  const group = rule.kind === 'sigmoid-group-topk' ? rule : { numGroups: 1, topkGroups: 1, normalize: false, scaling: 1 };
  await dispatch(ctx, enc, {
    shader: 'router_select',
    constants: { RULE: rule.kind === 'sparsemixer' ? 0 : 1 },
    params: [
      ['u32', T], ['u32', E], ['u32', k], ['u32', group.numGroups], ['u32', group.topkGroups], ['u32', group.normalize ? 1 : 0],
      ['f32', group.scaling], ['f32', rule.kind === 'sparsemixer' ? rule.jitterEps : 0],
    ],
    buffers: [a.logits, a.correctionBias ?? ctx.placeholder(), expertIds, weights],
    grid: dispatchGrid(T, ctx.device.limits.maxComputeWorkgroupsPerDimension),
  });
  return { expertIds, weights };
}
