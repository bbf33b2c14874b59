// Every routing rule's GPU selection against its transcription from transformers.
import { describe, expect, it } from 'vitest';
import { selectExperts } from '../../src/kernels/routing.ts';
import type { RoutingRule } from '../../src/model/spec.ts';
import { routingReference } from '../../src/reference/routing.ts';
import { testGpu } from '../helpers/gpu.ts';
import { f32Buffer, randomValues, readF32, readU32, relativeError, run } from '../helpers/gpuData.ts';
import { uploadStorage } from '../../src/gpu/buffers.ts';
import { randomLogits, seededRandom } from '../helpers/random.ts';

describe('routing rules on the GPU vs references', () => {
  const cases: [string, RoutingRule, number, number][] = [
    ['sparsemixer', { kind: 'sparsemixer', jitterEps: 0.01 }, 16, 2],
    ['sparsemixer, wide jitter', { kind: 'sparsemixer', jitterEps: 0.3 }, 60, 2],
    ['deepseek-v3 groups', { kind: 'sigmoid-group-topk', numGroups: 8, topkGroups: 4, normalize: true, scaling: 2.5 }, 64, 8],
    ['deepseek-v3 one group, no norm', { kind: 'sigmoid-group-topk', numGroups: 1, topkGroups: 1, normalize: false, scaling: 1 }, 256, 8],
    ['softmax-topk', { kind: 'softmax-topk', normalize: false }, 60, 4],
    ['topk-softmax', { kind: 'topk-softmax' }, 8, 2],
  ];
  for (const [name, rule, E, k] of cases) {
    it(name, async () => {
      const gpu = await testGpu();
      const rand = seededRandom(E * 31 + k);
      const T = 33;
      const logits = randomLogits(rand, T * E, 2);
      const bias = rule.kind === 'sigmoid-group-topk' ? randomValues(rand, E, 0.3) : null;
      let sel: Awaited<ReturnType<typeof selectExperts>> | undefined;
      await run(gpu, async (enc) => {
        sel = await selectExperts(gpu, enc, { logits: f32Buffer(gpu, logits), rule, numTokens: T, numExperts: E, topK: k, correctionBias: bias ? f32Buffer(gpu, bias) : null });
      });
      const want = routingReference(logits, rule, E, k, bias);
      expect(Array.from(await readU32(gpu, sel!.expertIds, T * k))).toEqual(want.expertIds);
      expect(relativeError(await readF32(gpu, sel!.weights, T * k), want.weights)).toBeLessThan(1e-5);
    });
  }
});

// A step's routing lives in ranges of shared buffers (engine/routingArena.ts): the kernels must read and
// write their own range only.
describe('routing into ranges of shared buffers', () => {
  const cases: [string, RoutingRule, number, number][] = [
    ['softmax-topk', { kind: 'softmax-topk', normalize: true }, 60, 4],
    ['deepseek-v3 groups', { kind: 'sigmoid-group-topk', numGroups: 8, topkGroups: 4, normalize: true, scaling: 2.5 }, 64, 8],
  ];
  for (const [name, rule, E, k] of cases) {
    it(name, async () => {
      const gpu = await testGpu();
      const rand = seededRandom(E * 7 + k);
      const T = 5;
      const at = 256; // bytes before each range: another layer's part
      const logits = randomLogits(rand, T * E, 2);
      const bias = rule.kind === 'sigmoid-group-topk' ? randomValues(rand, E, 0.3) : null;
      const sentinel = 0x7eadbeef;
      const filled = (elements: number) => new Uint32Array(elements).fill(sentinel);
      const logitWords = new Float32Array(at / 4 + T * E + 64).fill(-50);
      logitWords.set(logits, at / 4);
      const logitBuffer = f32Buffer(gpu, logitWords);
      const idBuffer = uploadStorage(gpu.device, filled(at / 4 + T * k + 64));
      const weightBuffer = uploadStorage(gpu.device, filled(at / 4 + T * k + 64));
      const range = (buffer: GPUBuffer, bytes: number) => ({ buffer, offset: at, size: bytes });
      await run(gpu, (enc) =>
        selectExperts(gpu, enc, {
          logits: range(logitBuffer, T * E * 4), rule, numTokens: T, numExperts: E, topK: k, correctionBias: bias ? f32Buffer(gpu, bias) : null,
          into: { expertIds: range(idBuffer, T * k * 4), weights: range(weightBuffer, T * k * 4) },
        }),
      );
      const want = routingReference(logits, rule, E, k, bias);
      const ids = await readU32(gpu, idBuffer, at / 4 + T * k + 64);
      const weights = await readU32(gpu, weightBuffer, at / 4 + T * k + 64);
      expect(Array.from(ids.subarray(at / 4, at / 4 + T * k))).toEqual(want.expertIds);
      expect(relativeError(new Float32Array(weights.buffer, at, T * k), want.weights)).toBeLessThan(1e-5);
      for (const words of [ids, weights]) {
        expect(words.subarray(0, at / 4).every((w) => w === sentinel)).toBe(true);
        expect(words.subarray(at / 4 + T * k).every((w) => w === sentinel)).toBe(true);
      }
    });
  }
});
