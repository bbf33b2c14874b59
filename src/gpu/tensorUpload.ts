// Stream checkpoint tensors to GPU buffers in their stored precision: read a byte range, write it, repeat,
// so no file or tensor is ever held whole. A tensor larger than one storage binding becomes several
// buffers, each holding whole rows (whole experts for fused [E, …] tensors), so kernels index within one.

import type { TensorEntry } from '../checkpoint/checkpoint.ts';
import type { ComputeDtype } from '../checkpoint/dtypes.ts';
import type { GpuContext } from './context.ts';

export interface GpuTensorPiece {
  buffer: GPUBuffer;
  /** First row (index along dim 0) this buffer holds. */
  firstRow: number;
  rows: number;
  byteLength: number;
}

export interface GpuTensor {
  name: string;
  dtype: ComputeDtype;
  shape: number[];
  /** One piece unless the tensor is larger than one storage binding. */
  pieces: GpuTensorPiece[];
}

export interface UploadProgress {
  /** The file being read now. */
  file: string;
  bytesDone: number;
  bytesTotal: number;
  /** Per file: bytes uploaded so far and the bytes of that file the model needs. */
  files: Record<string, { done: number; total: number }>;
}

export interface UploadOptions {
  /** Bytes per read + write (default 8 MiB). */
  chunkBytes?: number;
  /** Largest bytes per buffer; defaults to the device's maxStorageBufferBindingSize. */
  maxPieceBytes?: number;
  onProgress?: (progress: UploadProgress) => void;
  signal?: AbortSignal;
}

export class UploadCancelledError extends Error {
  override name = 'UploadCancelledError';
  constructor() {
    super('loading was cancelled');
  }
}

/** Wait for the queue every this many bytes, so Dawn's staging memory stays bounded. */
const FLUSH_BYTES = 256 * 2 ** 20;

const align4 = (n: number) => Math.ceil(n / 4) * 4;

/** Rows of dim 0 per piece so that each piece fits `maxPieceBytes`. */
export function planPieces(shape: readonly number[], byteLength: number, maxPieceBytes: number): { firstRow: number; rows: number; byteLength: number }[] {
  const rows = shape[0] ?? 1;
  if (byteLength <= maxPieceBytes || shape.length < 2) return [{ firstRow: 0, rows, byteLength }];
  const rowBytes = byteLength / rows;
  const rowsPerPiece = Math.floor(maxPieceBytes / rowBytes);
  if (rowsPerPiece < 1 || !Number.isInteger(rowBytes)) {
    throw new RangeError(`one row of ${rowBytes} bytes exceeds the ${maxPieceBytes}-byte binding limit`);
  }
  const pieces = [];
  for (let first = 0; first < rows; first += rowsPerPiece) {
    const n = Math.min(rowsPerPiece, rows - first);
    pieces.push({ firstRow: first, rows: n, byteLength: n * rowBytes });
  }
  return pieces;
}

export async function uploadTensors(ctx: GpuContext, tensors: readonly TensorEntry[], options: UploadOptions = {}): Promise<Map<string, GpuTensor>> {
  const { device } = ctx;
  const chunkBytes = align4(options.chunkBytes ?? 8 * 2 ** 20);
  const maxPieceBytes = options.maxPieceBytes ?? device.limits.maxStorageBufferBindingSize;
  const files: UploadProgress['files'] = {};
  for (const t of tensors) {
    const f = (files[t.file.source.name] ??= { done: 0, total: 0 });
    f.total += t.byteLength;
  }
  const progress: UploadProgress = { file: '', bytesDone: 0, bytesTotal: tensors.reduce((n, t) => n + t.byteLength, 0), files };
  const out = new Map<string, GpuTensor>();
  let sinceFlush = 0;
  const created: GPUBuffer[] = [];
  try {
    // in file order, so each file is read front to back
    const ordered = [...tensors].sort((a, b) => a.file.source.name.localeCompare(b.file.source.name) || a.offset - b.offset);
    for (const t of ordered) {
      const pieces: GpuTensorPiece[] = [];
      let tensorOffset = 0;
      for (const plan of planPieces(t.shape, t.byteLength, maxPieceBytes)) {
        const buffer = device.createBuffer({
          label: `${t.name}${plan.firstRow ? `[${plan.firstRow}:]` : ''}`,
          size: Math.max(4, align4(plan.byteLength)),
          usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC,
        });
        created.push(buffer);
        for (let done = 0; done < plan.byteLength; ) {
          if (options.signal?.aborted) throw new UploadCancelledError();
          const n = Math.min(chunkBytes, plan.byteLength - done);
          const bytes = await t.file.source.read(t.offset + tensorOffset + done, n);
          // writeBuffer needs a multiple of 4 bytes: only a tensor's last chunk can be short
          const data = n % 4 === 0 ? bytes : new Uint8Array(align4(n));
          if (data !== bytes) data.set(bytes);
          device.queue.writeBuffer(buffer, done, data.buffer, data.byteOffset, data.byteLength);
          done += n;
          progress.file = t.file.source.name;
          progress.bytesDone += n;
          files[t.file.source.name]!.done += n;
          options.onProgress?.(progress);
          sinceFlush += n;
          if (sinceFlush >= FLUSH_BYTES) {
            sinceFlush = 0;
            await device.queue.onSubmittedWorkDone();
          }
        }
        tensorOffset += plan.byteLength;
        pieces.push({ buffer, firstRow: plan.firstRow, rows: plan.rows, byteLength: plan.byteLength });
      }
      out.set(t.name, { name: t.name, dtype: t.dtype as ComputeDtype, shape: [...t.shape], pieces });
    }
    await device.queue.onSubmittedWorkDone();
    return out;
  } catch (error) {
    for (const b of created) b.destroy();
    throw error;
  }
}
