import { describe, expect, it } from 'vitest';
import { runSoftmaxTopK, type SoftmaxTopKShape } from '../../src/kernels/softmaxTopK.ts';
import { softmaxTopKReference } from '../../src/reference/softmaxTopK.ts';
import { maxAbsDiff } from '../helpers/compare.ts';
import type { GpuContext } from '../../src/gpu/context.ts';
import { KERNEL_VARIANTS, variantGpu } from '../helpers/gpu.ts';
import { randomInt, randomLogits, seededRandom } from '../helpers/random.ts';

const TOLERANCE = 2e-6; // f32 shader vs f64 reference, probabilities in [0, 1]

async function checkAgainstReference(gpu: GpuContext, logits: Float32Array, shape: SoftmaxTopKShape): Promise<void> {
  const got = await runSoftmaxTopK(gpu, logits, shape);
  const want = softmaxTopKReference(logits, shape);
  const label = JSON.stringify(shape);
  expect(maxAbsDiff(got.probs, want.probs).max, `probs ${label}`).toBeLessThan(TOLERANCE);
  expect(maxAbsDiff(got.weights, want.weights).max, `weights ${label}`).toBeLessThan(TOLERANCE);
  // Expert ids must agree wherever the reference's choice is decisive (no near-tie at that rank).
  const { numTokens: T, numExperts: E, topK: k } = shape;
  for (let t = 0; t < T; t++) {
    const sorted = Array.from(want.probs.subarray(t * E, (t + 1) * E)).sort((a, b) => b - a);
    for (let r = 0; r < k; r++) {
      const gapBefore = r === 0 ? Infinity : (sorted[r - 1] ?? 0) - (sorted[r] ?? 0);
      const gapAfter = (sorted[r] ?? 0) - (sorted[r + 1] ?? -Infinity);
      if (Math.min(gapBefore, gapAfter) > 1e-6) {
        expect(got.expertIds[t * k + r], `token ${t} rank ${r} ${label}`).toBe(want.expertIds[t * k + r]);
      }
    }
  }
}

for (const variant of KERNEL_VARIANTS) describe(`softmax + top-k kernel (shaders/softmax_topk.wgsl) vs plain-TS reference (${variant} kernels)`, () => {
  it('matches on 40 random shapes (E ≤ 300: ranks counted over several staged passes, k ≤ 8, both renormalisations)', async () => {
    const rand = seededRandom(20261123);
    for (let i = 0; i < 40; i++) {
      const numExperts = [2, 8, 16, 60, 64, 128, 256, 300][randomInt(rand, 0, 7)] ?? 8;
      const topK = randomInt(rand, 1, Math.min(8, numExperts));
      const numTokens = randomInt(rand, 1, 48);
      const shape = { numTokens, numExperts, topK, renormalize: rand() < 0.5 };
      await checkAgainstReference(await variantGpu(variant), randomLogits(rand, numTokens * numExperts), shape);
    }
  });

  it('breaks exact ties towards the lower expert id, like the reference', async () => {
    const logits = new Float32Array([1, 3, 3, 0, 3, 2, /* token 2: all equal */ 5, 5, 5, 5, 5, 5]);
    const gpu = await variantGpu(variant);
    const got = await runSoftmaxTopK(gpu, logits, { numTokens: 2, numExperts: 6, topK: 3, renormalize: true });
    expect(Array.from(got.expertIds)).toEqual([1, 2, 4, 0, 1, 2]);
    expect(Array.from(got.weights).map((w) => Number(w.toFixed(6)))).toEqual([1 / 3, 1 / 3, 1 / 3, 1 / 3, 1 / 3, 1 / 3].map((w) => Number(w.toFixed(6))));
  });

  it('handles more tokens than one dispatch dimension holds (65,537 tokens spill into y)', async () => {
    const rand = seededRandom(7);
    const shape = { numTokens: 65_537, numExperts: 4, topK: 2, renormalize: false };
    await checkAgainstReference(await variantGpu(variant), randomLogits(rand, shape.numTokens * shape.numExperts), shape);
  });

  it('rejects shapes it cannot run, naming the problem', async () => {
    const gpu = await variantGpu(variant);
    await expect(runSoftmaxTopK(gpu, new Float32Array(16), { numTokens: 1, numExperts: 16, topK: 9, renormalize: true })).rejects.toThrow(/top-k is at most 8/);
    await expect(runSoftmaxTopK(gpu, new Float32Array(15), { numTokens: 1, numExperts: 16, topK: 2, renormalize: true })).rejects.toThrow(/expected T×E = 16/);
  });
});
