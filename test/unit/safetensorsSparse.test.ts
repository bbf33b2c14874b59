// A 5 GB checkpoint file, stored sparse: the reader loads its header and one tensor and reads nothing else.
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ByteSource } from '../../src/checkpoint/byteSource.ts';
import { readSafetensorsHeader, readTensorBytes } from '../../src/checkpoint/safetensors.ts';
import { safetensorsLayout } from '../../src/checkpoint/safetensorsWriter.ts';
import { fileSource } from '../../src/node/fileSource.ts';

const dir = mkdtempSync(join(tmpdir(), 'moescope-sparse-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function counting(source: ByteSource): ByteSource & { bytesRead: number } {
  const counter = {
    name: source.name,
    size: source.size,
    bytesRead: 0,
    async read(offset: number, length: number) {
      counter.bytesRead += length;
      return source.read(offset, length);
    },
  };
  return counter;
}

describe('large files', () => {
  it('loads the header and one tensor of a 5 GB file without reading the rest', async () => {
    // [40000, 65536] BF16 = 5.24 GB of experts, then a small norm tensor at the very end
    const tensors = [
      { name: 'model.layers.0.mlp.experts.gate_up_proj', dtype: 'BF16' as const, shape: [40000, 65536] },
      { name: 'model.norm.weight', dtype: 'F32' as const, shape: [4] },
    ];
    const layout = safetensorsLayout(tensors);
    const path = join(dir, 'model.safetensors');
    writeFileSync(path, layout.header);
    truncateSync(path, layout.totalBytes); // a hole: no disk blocks behind the 5 GB
    // write the last tensor's bytes for real
    const { openSync, writeSync, closeSync } = await import('node:fs');
    const fd = openSync(path, 'r+');
    writeSync(fd, new Uint8Array(new Float32Array([1, 2, 3, 4]).buffer), 0, 16, layout.totalBytes - 16);
    closeSync(fd);

    const source = counting(await fileSource(path));
    expect(source.size).toBeGreaterThan(5e9);
    const file = await readSafetensorsHeader(source);
    const norm = file.tensors.get('model.norm.weight')!;
    const values = new Float32Array((await readTensorBytes(file, norm)).buffer);
    expect(Array.from(values)).toEqual([1, 2, 3, 4]);
    expect(file.tensors.get('model.layers.0.mlp.experts.gate_up_proj')?.byteLength).toBe(40000 * 65536 * 2);
    expect(source.bytesRead).toBe(layout.header.byteLength + 16);
  });
});
