// Writes safetensors files: for tests, fixtures and the benchmark's synthetic checkpoints. Produces the
// header and lets the caller stream each tensor's bytes, so large files never sit whole in memory.

import { SAFETENSORS_DTYPE_BITS, type SafetensorsDtype } from './dtypes.ts';

export interface TensorToWrite {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
}

export interface SafetensorsLayout {
  /** 8-byte length + JSON header, space-padded to a multiple of 8 as the reference writer does. */
  header: Uint8Array;
  /** Byte length of each tensor, in the order given. */
  byteLengths: number[];
  totalBytes: number;
}

export function tensorByteLength(dtype: SafetensorsDtype, shape: readonly number[]): number {
  const bits = shape.reduce((n, d) => n * d, SAFETENSORS_DTYPE_BITS[dtype]);
  return Math.ceil(bits / 8);
}

export function safetensorsLayout(tensors: readonly TensorToWrite[], metadata?: Record<string, string>): SafetensorsLayout {
  const header: Record<string, unknown> = {};
  if (metadata) header['__metadata__'] = metadata;
  const byteLengths: number[] = [];
  let offset = 0;
  for (const t of tensors) {
    const bytes = tensorByteLength(t.dtype, t.shape);
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
    byteLengths.push(bytes);
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((json.length + 8) % 8)) % 8);
  const jsonBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + jsonBytes.byteLength);
  new DataView(out.buffer).setBigUint64(0, BigInt(jsonBytes.byteLength), true);
  out.set(jsonBytes, 8);
  return { header: out, byteLengths, totalBytes: out.byteLength + offset };
}

/** A whole small file in memory: tensors with their data. */
export function encodeSafetensors(
  tensors: readonly (TensorToWrite & { data: Uint8Array })[],
  metadata?: Record<string, string>,
): Uint8Array {
  const layout = safetensorsLayout(tensors, metadata);
  const out = new Uint8Array(layout.totalBytes);
  out.set(layout.header, 0);
  let offset = layout.header.byteLength;
  tensors.forEach((t, i) => {
    const expected = layout.byteLengths[i];
    if (t.data.byteLength !== expected) throw new Error(`tensor ${t.name}: ${t.data.byteLength} bytes given, ${expected} expected`);
    out.set(t.data, offset);
    offset += t.data.byteLength;
  });
  return out;
}
