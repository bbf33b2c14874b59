// Stream checkpoint tensors to GPU buffers in their stored precision, so that no file or tensor is ever
// held whole in JS memory. Two ways to get bytes into a buffer (UploadWrites): create it mapped and read
// byte ranges of the file straight into its mapped memory (no byte copied twice on the host: Node), or
// queue each run of bytes with queue.writeBuffer. Bytes are read in chunks, several in flight. A tensor
// larger than one storage binding becomes several buffers, each holding whole rows (whole experts for
// fused [E, …] tensors), so kernels index within one.

import type { TensorEntry } from '../checkpoint/checkpoint.ts';
import type { ComputeDtype } from '../checkpoint/dtypes.ts';
import { storageSize } from './buffers.ts';
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
  /** Bytes per read (default UPLOAD_CHUNK_BYTES). */
  chunkBytes?: number | undefined;
  /** Reads in flight at a time (default UPLOAD_READ_AHEAD). */
  readAhead?: number | undefined;
  /** How bytes reach a buffer (default UPLOAD_WRITES_DEFAULT). */
  writes?: UploadWrites | undefined;
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

/**
 * 'mapped': each buffer is created mapped, filled, then unmapped (which sends it to the GPU); 'queued': each
 * run of up to chunkBytes goes to the buffer by queue.writeBuffer.
 */
export type UploadWrites = 'mapped' | 'queued';
export const UPLOAD_WRITES: readonly UploadWrites[] = ['mapped', 'queued'];
/** Unless told: Node reads a file straight into mapped memory (1.4–2.1 GB/s on the H100 hosts). */
export const UPLOAD_WRITES_DEFAULT: UploadWrites = 'mapped';
/**
 * In the page (a Web Worker on Files): a buffer mapped at creation crosses to Chromium's GPU process on
 * unmap, which bounded the page's load. H100, Chromium 150 (docs/performance.md, twentieth session):
 * granite 345 → 592 MB/s, OLMoE 342 → 641 MB/s (40.5 → 21.6 s) with queued writes. Reading each buffer
 * as one Blob stream instead of slices was no faster (granite 369 mapped, 528 queued) and was removed.
 * Node stays mapped: queued is slower there (1,250 → 780 MB/s).
 */
export const BROWSER_UPLOAD_WRITES: UploadWrites = 'queued';

/** Bytes per read, and reads in flight at a time, unless told (the bench can try others: --upload-chunk-mib, --upload-read-ahead, --upload-writes). */
export const UPLOAD_CHUNK_BYTES = 8 * 2 ** 20;
export const UPLOAD_READ_AHEAD = 4;

interface CopyJob {
  t: TensorEntry;
  start: number;
  length: number;
  buffer: GPUBuffer;
  bufferOffset: number;
}

/** Wait for the queue every this many bytes, so the host staging memory behind mapped buffers stays bounded. */
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

/**
 * Streams tensors into GPU buffers, keeping one progress account across the whole model. `planned` is
 * everything this uploader will be asked for (for the totals); ask in file order for sequential reads.
 */
export class Uploader {
  private readonly chunkBytes: number;
  private readonly maxPieceBytes: number;
  private readonly writes: UploadWrites;
  private readonly progress: UploadProgress;
  private readonly created: GPUBuffer[] = [];
  private sinceFlush = 0;

  constructor(
    private readonly ctx: GpuContext,
    planned: readonly TensorEntry[],
    private readonly options: UploadOptions = {},
  ) {
    this.chunkBytes = align4(options.chunkBytes ?? UPLOAD_CHUNK_BYTES);
    this.maxPieceBytes = options.maxPieceBytes ?? ctx.device.limits.maxStorageBufferBindingSize;
    this.writes = options.writes ?? UPLOAD_WRITES_DEFAULT;
    const files: UploadProgress['files'] = {};
    for (const t of planned) {
      const f = (files[t.file.source.name] ??= { done: 0, total: 0 });
      f.total += t.byteLength;
    }
    this.progress = { file: '', bytesDone: 0, bytesTotal: planned.reduce((n, t) => n + t.byteLength, 0), files };
  }

  /** A weight buffer; mapped for writing when writes are 'mapped' (filled by copy(), then unmapped). */
  private createBuffer(label: string, byteLength: number): GPUBuffer {
    const buffer = this.ctx.device.createBuffer({
      label,
      size: storageSize(byteLength),
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC,
      mappedAtCreation: this.writes === 'mapped',
    });
    this.created.push(buffer);
    return buffer;
  }

  private advance(file: string, n: number): void {
    this.progress.file = file;
    this.progress.bytesDone += n;
    const f = (this.progress.files[file] ??= { done: 0, total: 0 });
    f.done += n;
    this.options.onProgress?.(this.progress);
  }

  /** Bytes at `offset` of a buffer by queue.writeBuffer, which takes whole words: a tensor's odd tail goes out padded (the buffer is word-sized). */
  private writeQueued(buffer: GPUBuffer, offset: number, bytes: Uint8Array): void {
    const words = bytes.byteLength % 4 === 0 ? bytes : new Uint8Array(align4(bytes.byteLength));
    if (words !== bytes) words.set(bytes);
    // (the sources' bytes are never in shared memory)
    this.ctx.device.queue.writeBuffer(buffer, offset, words.buffer as ArrayBuffer, words.byteOffset, words.byteLength);
  }

  /**
   * Fill buffers from byte ranges of tensors: each job is bytes [start, start + length) of tensor t, to
   * `buffer` at bufferOffset. readAhead chunk reads run at a time, so the disk never waits; mapped, each
   * goes straight into the buffer's mapped memory where the source can (a file in Node).
   */
  private async copy(jobs: readonly CopyJob[]): Promise<void> {
    const mapped = new Map<GPUBuffer, Uint8Array>();
    const chunks: { job: CopyJob; done: number; n: number }[] = [];
    for (const job of jobs) {
      if (this.writes === 'mapped' && !mapped.has(job.buffer)) mapped.set(job.buffer, new Uint8Array(job.buffer.getMappedRange()));
      for (let done = 0; done < job.length; done += this.chunkBytes) chunks.push({ job, done, n: Math.min(this.chunkBytes, job.length - done) });
    }
    let next = 0;
    const worker = async () => {
      while (next < chunks.length) {
        if (this.options.signal?.aborted) throw new UploadCancelledError();
        const { job, done, n } = chunks[next++]!;
        const source = job.t.file.source;
        const offset = job.t.offset + job.start + done;
        const target = mapped.get(job.buffer)?.subarray(job.bufferOffset + done, job.bufferOffset + done + n);
        if (!target) this.writeQueued(job.buffer, job.bufferOffset + done, await source.read(offset, n));
        else if (source.readInto) await source.readInto(offset, target);
        else target.set(await source.read(offset, n));
        this.advance(source.name, n);
      }
    };
    // every read must settle before a failure propagates: the caller then destroys the buffers
    const settled = await Promise.allSettled(Array.from({ length: Math.min(this.options.readAhead ?? UPLOAD_READ_AHEAD, chunks.length) }, worker));
    const failed = settled.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
    for (const buffer of mapped.keys()) buffer.unmap();
    this.sinceFlush += jobs.reduce((n, j) => n + j.length, 0);
    if (this.sinceFlush >= FLUSH_BYTES) {
      // unmapped buffers and queued writes go to the GPU from host staging memory: let that drain now and then
      this.sinceFlush = 0;
      await this.ctx.device.queue.onSubmittedWorkDone();
    }
  }

  /** One tensor, as one buffer or (over one binding) several of whole rows. */
  async tensor(t: TensorEntry): Promise<GpuTensor> {
    const pieces: GpuTensorPiece[] = [];
    let tensorOffset = 0;
    const jobs: CopyJob[] = [];
    for (const plan of planPieces(t.shape, t.byteLength, this.maxPieceBytes)) {
      const buffer = this.createBuffer(`${t.name}${plan.firstRow ? `[${plan.firstRow}:]` : ''}`, plan.byteLength);
      jobs.push({ t, start: tensorOffset, length: plan.byteLength, buffer, bufferOffset: 0 });
      tensorOffset += plan.byteLength;
      pieces.push({ buffer, firstRow: plan.firstRow, rows: plan.rows, byteLength: plan.byteLength });
    }
    await this.copy(jobs);
    return { name: t.name, dtype: t.dtype as ComputeDtype, shape: [...t.shape], pieces };
  }

  /** Several tensors back to back in one buffer (per-expert weights packed into one expert bank). */
  async packed(parts: readonly TensorEntry[], label: string): Promise<GPUBuffer> {
    const total = parts.reduce((n, t) => n + t.byteLength, 0);
    if (total > this.maxPieceBytes) {
      throw new RangeError(`${label}: ${total} bytes exceed one storage binding (${this.maxPieceBytes} bytes) on this GPU`);
    }
    const buffer = this.createBuffer(label, total);
    let offset = 0;
    const jobs: CopyJob[] = [];
    for (const t of parts) {
      if (offset % 4 !== 0) throw new RangeError(`${label}: ${t.name} would start at byte ${offset}, not a multiple of 4`);
      jobs.push({ t, start: 0, length: t.byteLength, buffer, bufferOffset: offset });
      offset += t.byteLength;
    }
    await this.copy(jobs);
    return buffer;
  }

  /** Wait until every write has reached the GPU. */
  async finish(): Promise<void> {
    await this.ctx.device.queue.onSubmittedWorkDone();
  }

  /** Free everything this uploader created (after a failure or cancel). */
  destroy(): void {
    for (const b of this.created) b.destroy();
  }
}

export async function uploadTensors(ctx: GpuContext, tensors: readonly TensorEntry[], options: UploadOptions = {}): Promise<Map<string, GpuTensor>> {
  const uploader = new Uploader(ctx, tensors, options);
  const out = new Map<string, GpuTensor>();
  try {
    // in file order, so each file is read front to back
    const ordered = [...tensors].sort((a, b) => a.file.source.name.localeCompare(b.file.source.name) || a.offset - b.offset);
    for (const t of ordered) out.set(t.name, await uploader.tensor(t));
    await uploader.finish();
    return out;
  } catch (error) {
    uploader.destroy();
    throw error;
  }
}
