// safetensors reader: validates the header as strictly as the reference implementation and gives lazy,
// byte-range access to each tensor. Layout: u64 LE header length N | N bytes of UTF-8 JSON | data.

import { checkRange, type ByteSource } from './byteSource.ts';
import { isSafetensorsDtype, SAFETENSORS_DTYPE_BITS, type SafetensorsDtype } from './dtypes.ts';
import { SafetensorsFormatError } from './errors.ts';

/** The reference implementation refuses headers over 100 MB. */
export const MAX_HEADER_BYTES = 100_000_000;

export interface TensorInfo {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  /** Byte offset of the tensor's first byte in the file (header included). */
  offset: number;
  byteLength: number;
}

export interface SafetensorsFile {
  source: ByteSource;
  /** In file order. */
  tensors: Map<string, TensorInfo>;
  metadata: Record<string, string>;
  /** 8 + N: where the data starts. */
  dataStart: number;
}

function fail(source: ByteSource, reason: string): never {
  throw new SafetensorsFormatError(source.name, reason);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isIndex(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** numel × bits / 8 with overflow checks, as the reference's checked_mul does. */
function tensorBytes(source: ByteSource, name: string, shape: number[], dtype: SafetensorsDtype): bigint {
  let bits = BigInt(SAFETENSORS_DTYPE_BITS[dtype]);
  for (const d of shape) bits *= BigInt(d);
  if (bits % 8n !== 0n) fail(source, `tensor ${name}: ${shape.join('×')} elements of ${dtype} do not fill whole bytes`);
  return bits / 8n;
}

function parseMetadata(source: ByteSource, value: unknown): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (!isPlainObject(value)) fail(source, '__metadata__ must be an object of strings');
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string') fail(source, `__metadata__ value for "${k}" must be a string, found ${typeof v}`);
  }
  return value as Record<string, string>;
}

function parseEntry(source: ByteSource, name: string, value: unknown, dataStart: number): TensorInfo {
  if (!isPlainObject(value)) fail(source, `entry for tensor ${name} must be an object`);
  const { dtype, shape, data_offsets: offsets } = value;
  if (typeof dtype !== 'string' || !isSafetensorsDtype(dtype)) fail(source, `tensor ${name}: unknown dtype ${JSON.stringify(dtype)}`);
  if (!Array.isArray(shape) || !shape.every(isIndex)) fail(source, `tensor ${name}: shape must be a list of non-negative integers`);
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isIndex)) {
    fail(source, `tensor ${name}: data_offsets must be two non-negative integers`);
  }
  const [begin, end] = offsets as [number, number];
  if (end < begin) fail(source, `tensor ${name}: data_offsets [${begin}, ${end}] end before they begin`);
  const expected = tensorBytes(source, name, shape, dtype);
  if (expected !== BigInt(end - begin)) {
    fail(source, `tensor ${name}: ${dtype} ${JSON.stringify(shape)} needs ${expected} bytes but data_offsets span ${end - begin}`);
  }
  return { name, dtype, shape, offset: dataStart + begin, byteLength: end - begin };
}

/** Read and validate the header of one .safetensors file. Reads only the header's bytes. */
export async function readSafetensorsHeader(source: ByteSource): Promise<SafetensorsFile> {
  if (source.size < 8) fail(source, `file is ${source.size} bytes, shorter than the 8-byte header length`);
  const lengthBytes = await source.read(0, 8);
  const headerLength = new DataView(lengthBytes.buffer, lengthBytes.byteOffset, 8).getBigUint64(0, true);
  if (headerLength > BigInt(MAX_HEADER_BYTES)) fail(source, `header length ${headerLength} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  const n = Number(headerLength);
  if (8 + n > source.size) fail(source, `header length ${n} runs past the end of the ${source.size}-byte file`);
  const headerBytes = await source.read(8, n);

  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(headerBytes);
  } catch {
    fail(source, 'header is not valid UTF-8');
  }
  if (!text.startsWith('{')) fail(source, 'header does not start with "{"');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    fail(source, `header is not valid JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  if (!isPlainObject(json)) fail(source, 'header must be a JSON object');

  const dataStart = 8 + n;
  const metadata = parseMetadata(source, json['__metadata__']);
  const entries = Object.entries(json)
    .filter(([name]) => name !== '__metadata__')
    .map(([name, value]) => parseEntry(source, name, value, dataStart));

  // Offsets must tile the data exactly: sorted by start, each begins where the previous ended.
  const sorted = [...entries].sort((a, b) => a.offset - b.offset || a.byteLength - b.byteLength);
  let cursor = dataStart;
  for (const t of sorted) {
    if (t.offset !== cursor) {
      const what = t.offset < cursor ? 'overlaps the tensor before it' : `leaves a ${t.offset - cursor}-byte hole before it`;
      fail(source, `tensor ${t.name} at data offset ${t.offset - dataStart} ${what}`);
    }
    cursor = t.offset + t.byteLength;
  }
  if (cursor !== source.size) {
    fail(source, `tensors end at byte ${cursor} but the file has ${source.size} bytes (truncated, or data after the last tensor)`);
  }
  return { source, tensors: new Map(sorted.map((t) => [t.name, t])), metadata, dataStart };
}

/** The raw bytes of one tensor, little-endian as stored. */
export async function readTensorBytes(file: SafetensorsFile, tensor: TensorInfo): Promise<Uint8Array> {
  checkRange(file.source, tensor.offset, tensor.byteLength);
  return file.source.read(tensor.offset, tensor.byteLength);
}
