// Host side of the expert FFN: gate/up + SwiGLU for every (token, slot) pair, then down + weighted
// combine. Expert ids and weights stay on the GPU; nothing is read back between router and experts.

import type { Encoder } from '../gpu/recorder.ts';
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

/** Grid of one workgroup per output or output block (x) and row (y, spilling into z): the decode kernels. */
function rowGrid(outputs: number, rows: number): [number, number, number] {
  return [outputs, Math.min(rows, 65535), Math.ceil(rows / 65535)];
}

/** Grid of WG outputs per workgroup (x) and rows (y, spilling into z): the combine kernel. */
function pairGrid(width: number, rows: number): [number, number, number] {
  return [Math.ceil(width / WG), Math.min(rows, 65535), Math.ceil(rows / 65535)];
}

/** What both expert FFN paths take: the tokens, their chosen experts and weights, where to write. */
export interface ExpertFfnArgs {
  bank: ExpertBank;
  x: GPUBuffer; // [T, H] f32
  expertIds: GPUBuffer; // [T, k] u32
  weights: GPUBuffer; // [T, k] f32
  out: GPUBuffer; // [T, H] f32
  numTokens: number;
  topK: number;
  hiddenSize: number;
  /** Add to `out` (shared experts after routed ones) instead of overwriting it. */
  accumulate: boolean;
}

/** Rows of `width` values start on 16-byte boundaries (the *_rows kernels can stream them). */
const alignedRows = (width: number, w: WeightRef) => width % (w.dtype === 'F32' ? 4 : 8) === 0;
const ROWS = 8; // output rows per workgroup of the *_rows kernels

export async function expertFfn(ctx: GpuContext, enc: Encoder, a: ExpertFfnArgs & { hidden: GPUBuffer /* [T·k, I] f32 scratch */ }): Promise<void> {
  const { bank } = a;
  const pairs = a.numTokens * a.topK;
  const H = a.hiddenSize;
  const I = bank.width;
  const gateUpDtype = { WEIGHT_DTYPE: weightDtypeConstant(bank.gateUp.dtype) };
  if (!bank.gateUpTransposed && alignedRows(H, bank.gateUp)) {
    await dispatch(ctx, enc, {
      shader: 'expert_gate_up_rows',
      constants: gateUpDtype,
      params: [['u32', pairs], ['u32', a.topK], ['u32', H], ['u32', I]],
      buffers: [a.x, a.expertIds, bank.gateUp.buffer, a.hidden],
      grid: rowGrid(Math.ceil(I / ROWS), pairs),
    });
  } else {
    await dispatch(ctx, enc, {
      shader: 'expert_gate_up',
      constants: gateUpDtype,
      params: [['u32', pairs], ['u32', a.topK], ['u32', H], ['u32', I], ['u32', bank.gateUpTransposed ? 1 : 0]],
      buffers: [a.x, a.expertIds, bank.gateUp.buffer, a.hidden],
      grid: rowGrid(I, pairs),
    });
  }
  const downDtype = { WEIGHT_DTYPE: weightDtypeConstant(bank.down.dtype) };
  if (!bank.downTransposed && alignedRows(I, bank.down)) {
    await dispatch(ctx, enc, {
      shader: 'expert_down_combine_rows',
      constants: downDtype,
      params: [['u32', a.numTokens], ['u32', a.topK], ['u32', H], ['u32', I], ['u32', a.accumulate ? 1 : 0]],
      buffers: [a.hidden, a.expertIds, a.weights, bank.down.buffer, a.out],
      grid: rowGrid(Math.ceil(H / ROWS), a.numTokens),
    });
  } else {
    await dispatch(ctx, enc, {
      shader: 'expert_down_combine',
      constants: downDtype,
      params: [['u32', a.numTokens], ['u32', a.topK], ['u32', H], ['u32', I], ['u32', bank.downTransposed ? 1 : 0], ['u32', a.accumulate ? 1 : 0]],
      buffers: [a.hidden, a.expertIds, a.weights, bank.down.buffer, a.out],
      grid: rowGrid(H, a.numTokens),
    });
  }
}

const GROUPED_TILE = 64; // pairs and outputs per workgroup of expert_*_grouped.wgsl

/**
 * Prefill version: pairs grouped by expert on the GPU (count → scan → scatter), then one grouped multiply
 * per projection (64 pairs × 64 outputs per workgroup, staged in workgroup memory), then the weighted combine
 * in slot order.
 * `alloc` provides scratch buffers the caller frees after the step.
 */
export async function expertFfnGrouped(
  ctx: GpuContext,
  enc: Encoder,
  a: ExpertFfnArgs & { alloc: (bytes: number, label: string) => GPUBuffer },
): Promise<void> {
  const { bank, numTokens: T, topK: k, hiddenSize: H } = a;
  const E = bank.numExperts;
  const P = T * k;
  const counts = a.alloc(E * 4, 'pairs per expert [E]');
  const offsets = a.alloc((E + 1) * 4, 'expert offsets [E+1]');
  const sorted = a.alloc(P * 4, 'pairs by expert [P]');
  enc.clearBuffer(counts);
  const pairBlocks = Math.ceil(P / WG);
  const pairGridX = Math.min(pairBlocks, 65535);
  for (const stage of [0, 1, 2]) {
    await dispatch(ctx, enc, {
      shader: 'expert_group',
      constants: { STAGE: stage },
      params: [['u32', P], ['u32', E]],
      buffers: [a.expertIds, counts, offsets, sorted],
      grid: stage === 1 ? [1] : [pairGridX, Math.ceil(pairBlocks / pairGridX)],
    });
  }
  const tiles = Math.ceil(T / GROUPED_TILE); // an expert gets at most one pair per token
  const hidden = a.alloc(P * bank.width * 4, 'expert hidden [P,I]');
  await dispatch(ctx, enc, {
    shader: 'expert_gate_up_grouped',
    constants: { WEIGHT_DTYPE: weightDtypeConstant(bank.gateUp.dtype) },
    params: [['u32', H], ['u32', bank.width], ['u32', k], ['u32', bank.gateUpTransposed ? 1 : 0]],
    buffers: [a.x, offsets, sorted, bank.gateUp.buffer, hidden],
    grid: [Math.ceil(bank.width / GROUPED_TILE), tiles, E],
  });
  const y = a.alloc(P * H * 4, 'expert outputs [P,H]');
  await dispatch(ctx, enc, {
    shader: 'expert_down_grouped',
    constants: { WEIGHT_DTYPE: weightDtypeConstant(bank.down.dtype) },
    params: [['u32', H], ['u32', bank.width], ['u32', bank.downTransposed ? 1 : 0]],
    buffers: [hidden, offsets, sorted, bank.down.buffer, y],
    grid: [Math.ceil(H / GROUPED_TILE), tiles, E],
  });
  await dispatch(ctx, enc, {
    shader: 'expert_combine',
    params: [['u32', T], ['u32', k], ['u32', H], ['u32', a.accumulate ? 1 : 0]],
    buffers: [y, a.weights, a.out],
    grid: pairGrid(H, T),
  });
}
