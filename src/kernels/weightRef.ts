// A weight as the kernels see it: a GPU buffer of packed stored values, and how to unpack them.

import type { ComputeDtype } from '../checkpoint/dtypes.ts';

export interface WeightRef {
  buffer: GPUBuffer;
  dtype: ComputeDtype;
}

/** The WEIGHT_DTYPE override of shaders/weights.wgsl. */
export function weightDtypeConstant(dtype: ComputeDtype): number {
  return { F32: 0, BF16: 1, F16: 2 }[dtype];
}
