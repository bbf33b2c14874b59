// Thousands of random mutations and truncations of valid files: each must load or throw the reader's own
// typed error — never another exception, a hang or a runaway allocation.
import { describe, expect, it } from 'vitest';
import { memorySource } from '../../src/checkpoint/byteSource.ts';
import { SafetensorsFormatError } from '../../src/checkpoint/errors.ts';
import { readSafetensorsHeader, readTensorBytes } from '../../src/checkpoint/safetensors.ts';
import { encodeSafetensors } from '../../src/checkpoint/safetensorsWriter.ts';
import { randomInt, seededRandom } from '../helpers/random.ts';

const SEEDS = [
  encodeSafetensors(
    [
      { name: 'model.embed_tokens.weight', dtype: 'BF16', shape: [16, 8], data: new Uint8Array(256).fill(7) },
      { name: 'model.layers.0.mlp.gate.weight', dtype: 'F32', shape: [4, 8], data: new Uint8Array(128).fill(1) },
      { name: 'model.norm.weight', dtype: 'F16', shape: [8], data: new Uint8Array(16) },
    ],
    { format: 'pt' },
  ),
  encodeSafetensors([{ name: 'x', dtype: 'U8', shape: [3], data: new Uint8Array([1, 2, 3]) }]),
];

const INTERESTING = ['0', '1', '-1', '4294967296', '1e308', '"F32"', '"BF16"', 'null', '[]', '{}', '[0,0]', '9007199254740993'];

function mutate(seed: Uint8Array, rand: () => number): Uint8Array {
  let bytes = seed.slice();
  const headerEnd = 8 + Number(new DataView(seed.buffer).getBigUint64(0, true));
  const edits = randomInt(rand, 1, 4);
  for (let e = 0; e < edits; e++) {
    const kind = randomInt(rand, 0, 5);
    if (kind === 0) {
      bytes = bytes.slice(0, randomInt(rand, 0, bytes.length)); // truncate
    } else if (kind === 1 && bytes.length > 0) {
      bytes[randomInt(rand, 0, Math.min(bytes.length, headerEnd) - 1)] = randomInt(rand, 0, 255); // header byte
    } else if (kind === 2 && bytes.length > 0) {
      const i = randomInt(rand, 0, bytes.length - 1);
      bytes[i] = (bytes[i] ?? 0) ^ (1 << randomInt(rand, 0, 7)); // bit flip anywhere
    } else if (kind === 3 && bytes.length >= 8) {
      new DataView(bytes.buffer).setBigUint64(0, BigInt(randomInt(rand, 0, 2 ** 31)) * BigInt(randomInt(rand, 1, 2 ** 20)), true);
    } else if (kind === 4) {
      // replace a JSON number/token inside the header with an "interesting" one
      const text = new TextDecoder().decode(bytes.subarray(8, Math.min(headerEnd, bytes.length)));
      const tokens = [...text.matchAll(/-?\d+|"[A-Z0-9_]+"|\[[\d,]*\]/g)];
      const pick = tokens[randomInt(rand, 0, Math.max(0, tokens.length - 1))];
      if (pick?.index !== undefined) {
        const replacement = INTERESTING[randomInt(rand, 0, INTERESTING.length - 1)] ?? '0';
        const next = text.slice(0, pick.index) + replacement + text.slice(pick.index + pick[0].length);
        const json = new TextEncoder().encode(next);
        const out = new Uint8Array(8 + json.length + Math.max(0, bytes.length - headerEnd));
        new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
        out.set(json, 8);
        out.set(bytes.subarray(Math.min(headerEnd, bytes.length)), 8 + json.length);
        bytes = out;
      }
    } else {
      const extra = new Uint8Array(randomInt(rand, 1, 16)); // append bytes
      const out = new Uint8Array(bytes.length + extra.length);
      out.set(bytes);
      out.set(extra, bytes.length);
      bytes = out;
    }
  }
  return bytes;
}

describe('safetensors reader under fuzzing', () => {
  it('5,000 mutated files: each loads (and every tensor reads) or throws SafetensorsFormatError', async () => {
    const rand = seededRandom(424242);
    let loaded = 0;
    let rejected = 0;
    for (let i = 0; i < 5000; i++) {
      const bytes = mutate(SEEDS[i % SEEDS.length]!, rand);
      try {
        const file = await readSafetensorsHeader(memorySource(bytes, `fuzz-${i}.safetensors`));
        for (const t of file.tensors.values()) await readTensorBytes(file, t);
        loaded++;
      } catch (error) {
        if (!(error instanceof SafetensorsFormatError)) {
          throw new Error(`mutation ${i} threw ${String(error)} instead of SafetensorsFormatError`);
        }
        rejected++;
      }
    }
    console.info(`[fuzz] ${loaded} loaded, ${rejected} rejected with SafetensorsFormatError`);
    expect(loaded + rejected).toBe(5000);
    expect(rejected).toBeGreaterThan(2500); // the mutations really do break files
    expect(loaded).toBeGreaterThan(50); // and some survive (data-only flips)
  });
});
