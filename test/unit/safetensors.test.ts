import { describe, expect, it } from 'vitest';
import { memorySource } from '../../src/checkpoint/byteSource.ts';
import { SafetensorsFormatError } from '../../src/checkpoint/errors.ts';
import { readSafetensorsHeader, readTensorBytes } from '../../src/checkpoint/safetensors.ts';
import { encodeSafetensors } from '../../src/checkpoint/safetensorsWriter.ts';

const enc = new TextEncoder();

/** A file built by hand, byte by byte, independently of the writer under test. */
function handMade(headerJson: string, data: Uint8Array): Uint8Array {
  const json = enc.encode(headerJson);
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

async function parse(bytes: Uint8Array) {
  return readSafetensorsHeader(memorySource(bytes, 'test.safetensors'));
}

async function expectFormatError(bytes: Uint8Array, message: RegExp) {
  const error = await parse(bytes).then(() => null, (e: unknown) => e);
  expect(error).toBeInstanceOf(SafetensorsFormatError);
  expect(String((error as Error).message)).toMatch(/^test\.safetensors: not a valid safetensors file: /);
  expect(String((error as Error).message)).toMatch(message);
}

describe('safetensors reader', () => {
  it('reads a hand-made file: dtypes, shapes, metadata, tensor bytes', async () => {
    const data = Uint8Array.from({ length: 6 * 2 + 4 }, (_, i) => i);
    const file = await parse(
      handMade(
        '{"__metadata__":{"format":"pt"},"b":{"dtype":"F32","shape":[1],"data_offsets":[12,16]},' +
          '"a":{"dtype":"BF16","shape":[2,3],"data_offsets":[0,12]}}  ',
        data,
      ),
    );
    expect(file.metadata).toEqual({ format: 'pt' });
    expect([...file.tensors.keys()]).toEqual(['a', 'b']);
    const a = file.tensors.get('a')!;
    expect(a).toMatchObject({ dtype: 'BF16', shape: [2, 3], byteLength: 12 });
    expect(Array.from(await readTensorBytes(file, a))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(Array.from(await readTensorBytes(file, file.tensors.get('b')!))).toEqual([12, 13, 14, 15]);
  });

  it('recognises every dtype of the format, sub-byte ones included', async () => {
    const cases: [string, number[], number][] = [
      ['BOOL', [3], 3], ['U8', [2], 2], ['I8', [2], 2], ['I16', [2], 4], ['U16', [2], 4], ['F16', [2], 4],
      ['BF16', [2], 4], ['I32', [1], 4], ['U32', [1], 4], ['F32', [1], 4], ['F64', [1], 8], ['I64', [1], 8],
      ['U64', [1], 8], ['F8_E5M2', [2], 2], ['F8_E4M3', [2], 2], ['F8_E8M0', [2], 2], ['F4', [4], 2],
      ['F6_E2M3', [4], 3], ['F6_E3M2', [4], 3], ['C64', [1], 8],
    ];
    for (const [dtype, shape, bytes] of cases) {
      const file = await parse(handMade(`{"t":{"dtype":"${dtype}","shape":${JSON.stringify(shape)},"data_offsets":[0,${bytes}]}}`, new Uint8Array(bytes)));
      expect(file.tensors.get('t')?.dtype, dtype).toBe(dtype);
    }
  });

  it('accepts an empty file of tensors and zero-size tensors', async () => {
    expect((await parse(handMade('{}', new Uint8Array(0)))).tensors.size).toBe(0);
    const file = await parse(handMade('{"z":{"dtype":"F32","shape":[0,4],"data_offsets":[0,0]}}', new Uint8Array(0)));
    expect(file.tensors.get('z')?.byteLength).toBe(0);
  });

  it('rejects each way a file can break the format, saying which', async () => {
    const ok = '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}';
    await expectFormatError(new Uint8Array(5), /shorter than the 8-byte header length/);
    const huge = handMade(ok, new Uint8Array(8));
    new DataView(huge.buffer).setBigUint64(0, 100_000_001n, true);
    await expectFormatError(huge, /exceeds the 100000000-byte limit/);
    const past = handMade(ok, new Uint8Array(8));
    new DataView(past.buffer).setBigUint64(0, 1000n, true);
    await expectFormatError(past, /runs past the end/);
    const badUtf8 = handMade(ok, new Uint8Array(8));
    badUtf8[10] = 0xff;
    await expectFormatError(badUtf8, /not valid UTF-8/);
    await expectFormatError(handMade(' {}', new Uint8Array(0)), /does not start with "\{"/);
    await expectFormatError(handMade('{"a":', new Uint8Array(0)), /not valid JSON/);
    await expectFormatError(handMade('{"a":{"dtype":"F31","shape":[2],"data_offsets":[0,8]}}', new Uint8Array(8)), /unknown dtype "F31"/);
    await expectFormatError(handMade('{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}', new Uint8Array(8)), /shape must be/);
    await expectFormatError(handMade('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0]}}', new Uint8Array(8)), /data_offsets must be two/);
    await expectFormatError(handMade('{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}', new Uint8Array(8)), /needs 12 bytes but data_offsets span 8/);
    await expectFormatError(handMade('{"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}}', new Uint8Array(8)), /end before they begin/);
    await expectFormatError(
      handMade('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}', new Uint8Array(12)),
      /tensor b at data offset 4 overlaps/,
    );
    await expectFormatError(
      handMade('{"a":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}', new Uint8Array(12)),
      /4-byte hole/,
    );
    await expectFormatError(handMade(ok, new Uint8Array(12)), /tensors end at byte .* file has .* bytes/);
    await expectFormatError(handMade(ok, new Uint8Array(4)), /tensors end at byte/);
    await expectFormatError(handMade('{"__metadata__":{"a":1}}', new Uint8Array(0)), /__metadata__ value for "a" must be a string/);
    await expectFormatError(handMade('[1]', new Uint8Array(0)), /does not start with|must be a JSON object/);
    await expectFormatError(
      handMade(`{"a":{"dtype":"F32","shape":[${2 ** 40},${2 ** 40}],"data_offsets":[0,8]}}`, new Uint8Array(8)),
      /needs \d+ bytes but data_offsets span 8/,
    );
  });

  it('reads back what the writer wrote (writer and reader agree with each other and with the hand-made layout)', async () => {
    const data = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);
    const bytes = encodeSafetensors([{ name: 'w', dtype: 'F16', shape: [2, 2], data }], { format: 'pt' });
    expect((bytes.length - 8 - Number(new DataView(bytes.buffer).getBigUint64(0, true)))).toBe(8);
    expect((8 + Number(new DataView(bytes.buffer).getBigUint64(0, true))) % 8).toBe(0);
    const file = await parse(bytes);
    expect(Array.from(await readTensorBytes(file, file.tensors.get('w')!))).toEqual(Array.from(data));
  });
});
