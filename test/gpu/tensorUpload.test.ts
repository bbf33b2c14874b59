import { describe, expect, it } from 'vitest';
import { memorySource } from '../../src/checkpoint/byteSource.ts';
import { openCheckpoint } from '../../src/checkpoint/checkpoint.ts';
import { encodeSafetensors, tensorByteLength } from '../../src/checkpoint/safetensorsWriter.ts';
import type { SafetensorsDtype } from '../../src/checkpoint/dtypes.ts';
import { readBuffer } from '../../src/gpu/buffers.ts';
import { planPieces, uploadTensors, UploadCancelledError, UPLOAD_WRITES, type UploadProgress } from '../../src/gpu/tensorUpload.ts';
import { testGpu } from '../helpers/gpu.ts';
import { seededRandom } from '../helpers/random.ts';

const rand = seededRandom(5);
const TENSORS: { name: string; dtype: SafetensorsDtype; shape: number[] }[] = [
  { name: 'a', dtype: 'BF16', shape: [7, 6] },
  { name: 'b', dtype: 'F32', shape: [5, 3] },
  { name: 'c', dtype: 'BF16', shape: [3] }, // 6 bytes: not a multiple of 4
  { name: 'd', dtype: 'F16', shape: [40, 10] }, // 800 bytes: split into pieces of whole rows
];
const withData = TENSORS.map((t) => ({ ...t, data: Uint8Array.from({ length: tensorByteLength(t.dtype, t.shape) }, () => Math.floor(rand() * 256)) }));
const FILE = encodeSafetensors(withData);

async function checkpointTensors() {
  const config = memorySource(new TextEncoder().encode('{}'), 'config.json');
  const cp = await openCheckpoint([config, memorySource(FILE, 'model.safetensors')]);
  return [...cp.tensors.values()];
}

describe('streaming tensors to the GPU', () => {
  it('plans pieces of whole rows under the binding limit', () => {
    expect(planPieces([40, 10], 800, 256)).toEqual([
      { firstRow: 0, rows: 12, byteLength: 240 }, { firstRow: 12, rows: 12, byteLength: 240 },
      { firstRow: 24, rows: 12, byteLength: 240 }, { firstRow: 36, rows: 4, byteLength: 80 },
    ]);
    expect(planPieces([4, 8], 64, 1024)).toEqual([{ firstRow: 0, rows: 4, byteLength: 64 }]);
    expect(() => planPieces([2, 1000], 8000, 1000)).toThrow(/one row of 4000 bytes exceeds/);
  });

  it.each(UPLOAD_WRITES)('uploads every byte as stored, in small chunks, split where needed, reporting progress (%s writes)', async (writes) => {
    const gpu = await testGpu();
    const events: UploadProgress[] = [];
    const uploaded = await uploadTensors(gpu, await checkpointTensors(), {
      chunkBytes: 64,
      maxPieceBytes: 256,
      writes,
      onProgress: (p) => events.push(structuredClone(p)),
    });
    for (const t of withData) {
      const g = uploaded.get(t.name)!;
      expect(g.shape).toEqual(t.shape);
      const parts = await Promise.all(g.pieces.map((p) => readBuffer(gpu.device, p.buffer, p.byteLength)));
      const joined = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
      let at = 0;
      for (const p of parts) {
        joined.set(new Uint8Array(p), at);
        at += p.byteLength;
      }
      expect(Array.from(joined), t.name).toEqual(Array.from(t.data));
    }
    expect(uploaded.get('d')!.pieces.map((p) => p.rows)).toEqual([12, 12, 12, 4]);
    const total = withData.reduce((n, t) => n + t.data.length, 0);
    expect(events.at(-1)).toMatchObject({ bytesDone: total, bytesTotal: total, files: { 'model.safetensors': { done: total, total } } });
    expect(events.length).toBeGreaterThan(15);
    expect(events.every((e, i) => i === 0 || e.bytesDone > events[i - 1]!.bytesDone)).toBe(true);
  });

  it.each(UPLOAD_WRITES)('stops when cancelled (%s writes)', async (writes) => {
    const gpu = await testGpu();
    const abort = new AbortController();
    const upload = uploadTensors(gpu, await checkpointTensors(), { chunkBytes: 16, writes, signal: abort.signal, onProgress: () => abort.abort() });
    await expect(upload).rejects.toBeInstanceOf(UploadCancelledError);
  });
});
