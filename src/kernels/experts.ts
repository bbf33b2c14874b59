// Host side of the expert FFN: gate/up + SwiGLU for every (token, slot) pair, then down + weighted
// combine. Expert ids and weights stay on the GPU; nothing is read back between router and experts.

import { dispatch } from '../gpu/dispatch.ts';
import type { GpuContext } from '../gpu/context.ts';
import { weightDtypeConstant, type WeightRef } from './weightRef.ts';

/** An expert bank: E experts' SwiGLU weights packed as two tensors. */
export interface ExpertBank {
  gateUp: WeightRef; // [E, 2I, H], or [E, H, 2I] when transposed
  down: WeightRef; // [E, H, I], or [E, I, H] when transposed
  gateUpTransposed: boolean;
  downTransposed: boolean;
  numExperts: number;
  width: number; // I
}

const WG = 64;

function pairGrid(width: number, rows: number): [number, number, number] {
  return [Math.ceil(width / WG), Math.min(rows, 65535), Math.ceil(rows / 65535)];
}

export async function expertFfn(
  ctx: GpuContext,
  enc: GPUCommandEncoder,
  a: {
    bank: ExpertBank;
    x: GPUBuffer; // [T, H] f32
    expertIds: GPUBuffer; // [T, k] u32
    weights: GPUBuffer; // [T, k] f32
    hidden: GPUBuffer; // [T·k, I] f32 scratch
    out: GPUBuffer; // [T, H] f32
    numTokens: number;
    topK: number;
    hiddenSize: number;
    accumulate: boolean;
  },
): Promise<void> {
  const { bank } = a;
  const pairs = a.numTokens * a.topK;
  await dispatch(ctx, enc, {
    shader: 'expert_gate_up',
    constants: { WEIGHT_DTYPE: weightDtypeConstant(bank.gateUp.dtype) },
    params: [['u32', pairs], ['u32', a.topK], ['u32', a.hiddenSize], ['u32', bank.width], ['u32', bank.gateUpTransposed ? 1 : 0]],
    buffers: [a.x, a.expertIds, bank.gateUp.buffer, a.hidden],
    grid: pairGrid(bank.width, pairs),
  });
  await dispatch(ctx, enc, {
    shader: 'expert_down_combine',
    constants: { WEIGHT_DTYPE: weightDtypeConstant(bank.down.dtype) },
    params: [['u32', a.numTokens], ['u32', a.topK], ['u32', a.hiddenSize], ['u32', bank.width], ['u32', bank.downTransposed ? 1 : 0], ['u32', a.accumulate ? 1 : 0]],
    buffers: [a.hidden, a.expertIds, a.weights, bank.down.buffer, a.out],
    grid: pairGrid(a.hiddenSize, a.numTokens),
  });
}
