// Plain-TS reference for router softmax + top-k, written from the PyTorch it mirrors:
//   probs = softmax(logits, dim=-1); weights, experts = torch.topk(probs, k)
//   if renormalize: weights /= weights.sum(dim=-1, keepdim=True)
// Computed in f64 so that it is an independent check of the f32 shader.

import type { SoftmaxTopKResult, SoftmaxTopKShape } from '../kernels/softmaxTopK.ts';

export function softmaxTopKReference(logits: Float32Array, shape: SoftmaxTopKShape): SoftmaxTopKResult {
  const { numTokens: T, numExperts: E, topK: k, renormalize } = shape;
  const probs = new Float32Array(T * E);
  const expertIds = new Uint32Array(T * k);
  const weights = new Float32Array(T * k);
  for (let t = 0; t < T; t++) {
    const row = Array.from(logits.subarray(t * E, (t + 1) * E));
    const max = Math.max(...row);
    const exps = row.map((l) => Math.exp(l - max));
    const sum = exps.reduce((a, b) => a + b, 0);
    const p = exps.map((x) => x / sum);
    p.forEach((x, e) => (probs[t * E + e] = x));
    // stable sort: equal probabilities keep ascending expert order
    const order = p.map((x, e) => ({ x, e })).sort((a, b) => b.x - a.x || a.e - b.e).slice(0, k);
    const chosenSum = order.reduce((a, o) => a + o.x, 0);
    order.forEach((o, r) => {
      expertIds[t * k + r] = o.e;
      weights[t * k + r] = renormalize ? o.x / chosenSum : o.x;
    });
  }
  return { probs, expertIds, weights };
}
