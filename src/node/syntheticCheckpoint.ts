// Write a synthetic checkpoint folder (config.json + model.safetensors) of any size, streaming: the
// header first, then each tensor in chunks of random small bf16 values. Never holds the file in memory.

import { randomFillSync } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';
import { safetensorsLayout } from '../checkpoint/safetensorsWriter.ts';

const CHUNK = 16 * 2 ** 20;

/** Random bf16 values in about ±0.03: random low mantissa bits under a fixed small exponent and sign. */
function randomBf16Chunk(bytes: number): Uint8Array {
  const out = new Uint8Array(bytes);
  randomFillSync(out);
  for (let i = 1; i < bytes; i += 2) out[i] = (out[i]! & 0x80) | 0x3c; // high byte: sign | exponent ≈ 2^-7
  return out;
}

/** Writes the folder unless a complete one (same byte size) is already there. Returns its path. */
export async function writeSyntheticCheckpoint(dir: string, config: Record<string, unknown>, tensors: [string, number[]][]): Promise<string> {
  const layout = safetensorsLayout(tensors.map(([name, shape]) => ({ name, dtype: 'BF16' as const, shape })));
  const file = join(dir, 'model.safetensors');
  if (existsSync(file) && statSync(file).size === layout.totalBytes && existsSync(join(dir, 'config.json'))) return dir;
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, 2));
  const stream = createWriteStream(file);
  const write = async (chunk: Uint8Array) => {
    if (!stream.write(chunk)) await once(stream, 'drain');
  };
  await write(layout.header);
  const pattern = randomBf16Chunk(CHUNK);
  for (const [index, bytes] of layout.byteLengths.entries()) {
    for (let done = 0; done < bytes; done += CHUNK) {
      const n = Math.min(CHUNK, bytes - done);
      // Each tensor starts 7,919 values further into the random pattern than the one before: tensors of the
      // same shape (experts) differ, and since 7,919 is odd no row lines up with another tensor's row.
      const offset = ((index * 7919 + done / 2) % ((CHUNK - n) / 2 + 1)) * 2;
      await write(pattern.subarray(offset, offset + n));
    }
  }
  stream.end();
  await once(stream, 'finish');
  return dir;
}
