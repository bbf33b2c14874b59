// Test data on the GPU: random weights in a stored dtype (and the f32 values they decode to), f32 and u32
// buffers, readback.

import type { ComputeDtype } from '../../src/checkpoint/dtypes.ts';
import { readBuffer, storageBuffer, uploadStorage, type Binding } from '../../src/gpu/buffers.ts';
import type { GpuContext } from '../../src/gpu/context.ts';
import type { WeightRef } from '../../src/kernels/weightRef.ts';
import { decodeWeights, encodeWeights } from '../../src/checkpoint/dtypeCodec.ts';

export function randomValues(rand: () => number, n: number, scale = 1): Float32Array {
  return Float32Array.from({ length: n }, () => (rand() * 2 - 1) * scale);
}

/** A weight stored as `dtype` on the GPU, and exactly the f32 values the stored bytes mean. */
export function weight(gpu: GpuContext, values: Float32Array, dtype: ComputeDtype): { ref: WeightRef; values: Float32Array } {
  const bytes = encodeWeights(values, dtype);
  const padded = new Uint8Array(Math.ceil(bytes.length / 4) * 4);
  padded.set(bytes);
  return { ref: { buffer: uploadStorage(gpu.device, new Uint32Array(padded.buffer)), dtype }, values: decodeWeights(bytes, dtype) };
}

export const f32Buffer = (gpu: GpuContext, data: Float32Array) => uploadStorage(gpu.device, data);
export const u32Buffer = (gpu: GpuContext, data: ArrayLike<number>) => uploadStorage(gpu.device, Uint32Array.from(data));
export const emptyBuffer = (gpu: GpuContext, elements: number) => storageBuffer(gpu.device, elements * 4);

export async function run(gpu: GpuContext, record: (enc: GPUCommandEncoder) => Promise<unknown>): Promise<void> {
  await gpu.checked('test dispatch', async () => {
    const enc = gpu.device.createCommandEncoder();
    await record(enc);
    gpu.device.queue.submit([enc.finish()]);
    await gpu.device.queue.onSubmittedWorkDone();
  });
}

export async function readF32(gpu: GpuContext, buffer: Binding, elements: number): Promise<Float32Array> {
  return new Float32Array(await readBuffer(gpu.device, buffer, elements * 4));
}

export async function readU32(gpu: GpuContext, buffer: Binding, elements: number): Promise<Uint32Array> {
  return new Uint32Array(await readBuffer(gpu.device, buffer, elements * 4));
}

/** Largest |a − b| relative to the largest |b| (the normalised error llama.cpp's op tests use). */
export function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let diff = 0;
  let scale = 1e-30;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs((a[i] ?? NaN) - b[i]!) || (Number.isNaN(a[i]) ? Infinity : 0));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return diff / scale;
}
