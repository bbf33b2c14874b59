// Every routing rule's GPU selection against its transcription from transformers.
import { describe, expect, it } from 'vitest';
import { selectExperts } from '../../src/kernels/routing.ts';
import type { RoutingRule } from '../../src/model/spec.ts';
import { routingReference } from '../../src/reference/routing.ts';
import { testGpu } from '../helpers/gpu.ts';
import { f32Buffer, randomValues, readF32, readU32, relativeError, run } from '../helpers/gpuData.ts';
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
