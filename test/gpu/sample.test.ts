// GPU sampling as a deterministic function of the host's draw u: the same id as the reference inverse CDF
// for every u on a grid (away from the few u that land within rounding of a boundary).
import { describe, expect, it } from 'vitest';
import { sample } from '../../src/kernels/layers.ts';
import { sampleRef } from '../../src/reference/layers.ts';
import { KERNEL_VARIANTS, variantGpu } from '../helpers/gpu.ts';
import { emptyBuffer, f32Buffer, randomValues, readU32, run } from '../helpers/gpuData.ts';
import { seededRandom } from '../helpers/random.ts';

for (const variant of KERNEL_VARIANTS) describe(`sampling kernel (temperature, top-k, top-p) vs reference (${variant} kernels)`, () => {
  it('draws the reference token for a grid of u', async () => {
    const gpu = await variantGpu(variant);
    const rand = seededRandom(21);
    const V = 700;
    const logits = randomValues(rand, V * 2, 4);
    const settings = [
      { temperature: 1, topK: 0, topP: 1 },
      { temperature: 0.7, topK: 5, topP: 1 },
      { temperature: 1.3, topK: 0, topP: 0.6 },
      { temperature: 0.9, topK: 40, topP: 0.9 },
    ];
    const buffer = f32Buffer(gpu, logits);
    for (const s of settings) {
      const us = Array.from({ length: 24 }, (_, i) => (i + 0.37) / 24);
      const ids = us.map(() => emptyBuffer(gpu, 1));
      await run(gpu, async (enc) => {
        for (const [i, u] of us.entries()) await sample(gpu, enc, { logits: buffer, id: ids[i]!, width: V, rowOffset: 1, settings: s, u });
      });
      const got = await Promise.all(ids.map(async (b) => (await readU32(gpu, b, 1))[0]));
      const want = us.map((u) => sampleRef(logits.subarray(V, 2 * V), s, u));
      expect(got, JSON.stringify(s)).toEqual(want);
      if (s.topK === 5) expect(new Set(got).size).toBeLessThanOrEqual(5);
    }
  });
});
