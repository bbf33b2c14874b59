// Stored weight bytes ↔ f32 on the CPU: for the reference model, the weight analyses and tests.
// Written from the formats, not from the shaders: bf16 is the top half of an f32; f16 is IEEE binary16.

import type { ComputeDtype } from '../checkpoint/dtypes.ts';

export function f16ToF32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

export function decodeWeights(bytes: Uint8Array, dtype: ComputeDtype): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = dtype === 'F32' ? bytes.byteLength / 4 : bytes.byteLength / 2;
  if (dtype === 'BF16') {
    // bf16 is the top half of an f32: widen the bits in place of a conversion per value
    const bits = new Uint32Array(n);
    for (let i = 0; i < n; i++) bits[i] = view.getUint16(i * 2, true) << 16;
    return new Float32Array(bits.buffer);
  }
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = dtype === 'F32' ? view.getFloat32(i * 4, true) : f16ToF32(view.getUint16(i * 2, true));
  return out;
}

/** f32 → bf16 bits, round to nearest even (as torch's .to(bfloat16)). */
export function f32ToBf16Bits(x: number): number {
  const u = new Uint32Array(new Float32Array([x]).buffer)[0]!;
  if ((u & 0x7f800000) === 0x7f800000 && u & 0x7fffff) return 0x7fc0;
  return ((u + 0x7fff + ((u >> 16) & 1)) >>> 16) & 0xffff;
}

/** Encode f32 values in a stored dtype (for building test weights). */
export function encodeWeights(values: Float32Array, dtype: ComputeDtype): Uint8Array {
  if (dtype === 'F32') return new Uint8Array(values.slice().buffer);
  const out = new Uint8Array(values.length * 2);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    view.setUint16(i * 2, dtype === 'BF16' ? f32ToBf16Bits(v) : f32ToF16Bits(v), true);
  }
  return out;
}

/** f32 → f16 bits, round to nearest even; overflow → ±Inf. */
export function f32ToF16Bits(x: number): number {
  const f = new Float32Array([x]);
  const u = new Uint32Array(f.buffer)[0]!;
  const sign = (u >>> 16) & 0x8000;
  const abs = Math.abs(x);
  if (Number.isNaN(x)) return 0x7e00;
  if (abs >= 65520) return sign | 0x7c00;
  if (abs < 2 ** -24 / 2) return sign;
  if (abs < 2 ** -14) return sign | Math.round(abs / 2 ** -24); // subnormal
  const exp = Math.floor(Math.log2(abs));
  let mant = Math.round((abs / 2 ** exp - 1) * 1024);
  let e = exp + 15;
  if (mant === 1024) {
    mant = 0;
    e++;
  }
  return sign | (e << 10) | mant;
}
