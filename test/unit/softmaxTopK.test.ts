import { describe, expect, it } from 'vitest';
import { packSoftmaxTopKParams } from '../../src/kernels/softmaxTopK.ts';
import { softmaxTopKReference } from '../../src/reference/softmaxTopK.ts';
import { dispatchGrid } from '../../src/gpu/buffers.ts';

describe('softmax + top-k: reference and host side', () => {
  it('reference matches a hand-worked example', () => {
    // logits [0, ln 2, ln 3, ln 4] → probs [1, 2, 3, 4] / 10
    const logits = new Float32Array([0, Math.log(2), Math.log(3), Math.log(4)]);
    const raw = softmaxTopKReference(logits, { numTokens: 1, numExperts: 4, topK: 2, renormalize: false });
    expect(Array.from(raw.expertIds)).toEqual([3, 2]);
    expect(raw.weights[0]).toBeCloseTo(0.4, 6);
    expect(raw.weights[1]).toBeCloseTo(0.3, 6);
    const renorm = softmaxTopKReference(logits, { numTokens: 1, numExperts: 4, topK: 2, renormalize: true });
    expect(renorm.weights[0]).toBeCloseTo(4 / 7, 6);
    expect(renorm.weights[1]).toBeCloseTo(3 / 7, 6);
  });

  it('packs Params as 4 u32 in shader field order (16 bytes)', () => {
    const bytes = packSoftmaxTopKParams({ numTokens: 5, numExperts: 64, topK: 8, renormalize: true });
    expect(bytes.byteLength).toBe(16);
    expect(Array.from(new Uint32Array(bytes))).toEqual([5, 64, 8, 1]);
  });

  it('spreads dispatches past the per-dimension limit into y', () => {
    expect(dispatchGrid(10, 65535)).toEqual([10, 1]);
    expect(dispatchGrid(65537, 65535)).toEqual([65535, 2]);
    expect(dispatchGrid(0, 65535)).toEqual([1, 1]);
  });
});
