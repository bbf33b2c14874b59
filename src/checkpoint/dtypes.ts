// Every dtype of the safetensors format, with its size in bits. BF16, F16 and F32 are the ones MoEScope
// computes with; the others are recognised so that errors can name them.

export const SAFETENSORS_DTYPE_BITS = {
  BOOL: 8,
  U8: 8,
  I8: 8,
  F8_E5M2: 8,
  F8_E4M3: 8,
  F8_E8M0: 8,
  F4: 4,
  F6_E2M3: 6,
  F6_E3M2: 6,
  I16: 16,
  U16: 16,
  F16: 16,
  BF16: 16,
  I32: 32,
  U32: 32,
  F32: 32,
  I64: 64,
  U64: 64,
  F64: 64,
  C64: 64,
} as const;

export type SafetensorsDtype = keyof typeof SAFETENSORS_DTYPE_BITS;
export type ComputeDtype = 'BF16' | 'F16' | 'F32';

export const COMPUTE_DTYPES: readonly ComputeDtype[] = ['BF16', 'F16', 'F32'];

export function isSafetensorsDtype(name: string): name is SafetensorsDtype {
  return Object.hasOwn(SAFETENSORS_DTYPE_BITS, name);
}

export function isComputeDtype(dtype: string): dtype is ComputeDtype {
  return (COMPUTE_DTYPES as readonly string[]).includes(dtype);
}
