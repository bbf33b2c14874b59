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

/** Rows of `inputs` values of this weight start on 16-byte boundaries: kernels can stream them 16 bytes per load. */
export const alignedRows = (inputs: number, w: WeightRef) => inputs % (w.dtype === 'F32' ? 4 : 8) === 0;

/**
 * The VECTOR_LOADS override of shaders/tile_staging.wgsl (matmul and the grouped expert multiplies):
 * input-contiguous rows of K inputs can be staged 8 inputs at a time, in 16-byte loads.
 */
export const tileVectorLoads = (inputs: number, transposed = false): number => (inputs % 8 === 0 && !transposed ? 1 : 0);
