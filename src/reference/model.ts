// A plain-TS MoE decoder: the whole model in f64 loops, straight from transformers' modeling code, with
// no KV cache (every call recomputes from position 0). Slow and simple on purpose: it is what the GPU
// engine is tested against on random-weight models, independently of any kernel.

import type { TensorEntry } from '../checkpoint/checkpoint.ts';
import { ropeFrequencies } from '../model/rope.ts';
import type { MlaAttention, ModelSpec } from '../model/spec.ts';
import type { ModelWeights } from '../model/weights.ts';
import { expertMatrices, swigluMatrices, tensorF32 as f32 } from '../model/expertMatrices.ts';
import { attentionRef, embedRef, expertFfnRef, linearRef, normRef, ropeRef } from './layers.ts';
import { routingReference } from './routing.ts';

export interface ReferenceOutput {
  logits: Float32Array; // [T, V]
  routerLogits: Map<number, Float32Array>; // MoE layer → [T, E]
}

/** DeepseekV3Attention.forward, without a cache: every position attends to all before it. */
async function mlaRef(
  spec: ModelSpec, a: MlaAttention, w: Extract<ModelWeights['layers'][number]['attention'], { kind: 'mla' }>,
  h: Float32Array, T: number, invFreq: Float32Array, attentionFactor: number,
): Promise<Float32Array> {
  const H = spec.hiddenSize;
  const lin = async (l: { weight: TensorEntry; bias: TensorEntry | null }, x: Float32Array, inputs: number) => linearRef(x, await f32(l.weight), l.bias ? await f32(l.bias) : null, inputs);
  const qkHead = a.qkNopeHeadDim + a.qkRopeHeadDim;
  let q: Float32Array;
  if (w.qA && w.qANorm && w.qB && a.qLoraRank !== null) {
    const qa = normRef(await lin(w.qA, h, H), a.qLoraRank, await f32(w.qANorm), null, spec.norm.eps, false);
    q = await lin(w.qB, qa, a.qLoraRank);
  } else {
    q = await lin(w.q!, h, H);
  }
  const cw = a.kvLoraRank + a.qkRopeHeadDim;
  const compressed = await lin(w.kvA, h, H);
  const latent = new Float32Array(T * a.kvLoraRank);
  for (let t = 0; t < T; t++) latent.set(compressed.subarray(t * cw, t * cw + a.kvLoraRank), t * a.kvLoraRank);
  const kv = await lin(w.kvB, normRef(latent, a.kvLoraRank, await f32(w.kvANorm), null, spec.norm.eps, false), a.kvLoraRank);
  // rope parts: q's last rope dims of each head; k's shared rope part is the tail of each compressed row
  q = ropeRef(q, a.numHeads, qkHead, a.qkRopeHeadDim, 0, invFreq, attentionFactor, a.qkNopeHeadDim, a.ropeInterleave);
  const kRope = ropeRef(compressed, 1, cw, a.qkRopeHeadDim, 0, invFreq, attentionFactor, a.kvLoraRank, a.ropeInterleave);
  const NH = a.numHeads;
  const kvRow = a.qkNopeHeadDim + a.vHeadDim;
  const k = new Float32Array(T * NH * qkHead);
  const v = new Float32Array(T * NH * a.vHeadDim);
  for (let t = 0; t < T; t++) {
    for (let hd = 0; hd < NH; hd++) {
      const src = (t * NH + hd) * kvRow;
      k.set(kv.subarray(src, src + a.qkNopeHeadDim), (t * NH + hd) * qkHead);
      k.set(kRope.subarray(t * cw + a.kvLoraRank, (t + 1) * cw), (t * NH + hd) * qkHead + a.qkNopeHeadDim);
      v.set(kv.subarray(src + a.qkNopeHeadDim, src + kvRow), (t * NH + hd) * a.vHeadDim);
    }
  }
  const attn = attentionRef(q, k, v, { numHeads: NH, numKvHeads: NH, headDim: qkHead, valueDim: a.vHeadDim, pos0: 0, scale: a.scale, window: null });
  return lin(w.o, attn, NH * a.vHeadDim);
}

export async function referenceForward(spec: ModelSpec, weights: ModelWeights, ids: readonly number[]): Promise<ReferenceOutput> {
  const T = ids.length;
  const H = spec.hiddenSize;
  const { invFreq, attentionFactor } = ropeFrequencies(spec.rope, spec.maxPositionEmbeddings, T, spec.architecture);
  const isLayer = spec.norm.kind === 'layer';
  const normOf = async (n: { weight: TensorEntry; bias: TensorEntry | null }, x: Float32Array, width = H) =>
    normRef(x, width, await f32(n.weight), n.bias ? await f32(n.bias) : null, spec.norm.eps, isLayer);
  const linearOf = async (l: { weight: TensorEntry; bias: TensorEntry | null }, x: Float32Array, inputs: number) =>
    linearRef(x, await f32(l.weight), l.bias ? await f32(l.bias) : null, inputs);
  const addScaled = (x: Float32Array, y: Float32Array, s: number) => x.forEach((v, i) => (x[i] = v + y[i]! * s));

  let x = embedRef(ids, await f32(weights.embed), H, spec.embeddingMultiplier);
  const routerLogits = new Map<number, Float32Array>();
  for (const [li, layer] of spec.layers.entries()) {
    const w = weights.layers[li]!;
    const a = layer.attention;
    const h = await normOf(w.inputNorm, x);
    if (a.kind === 'mla' && w.attention.kind === 'mla') {
      addScaled(x, await mlaRef(spec, a, w.attention, h, T, invFreq, attentionFactor), spec.residualMultiplier);
    } else if (a.kind === 'gqa' && w.attention.kind === 'gqa') {
    let q = await linearOf(w.attention.q, h, H);
    let k = await linearOf(w.attention.k, h, H);
    let v = await linearOf(w.attention.v, h, H);
    if (w.attention.qNorm && w.attention.kNorm) {
      const perHead = a.qkNorm === 'per-head';
      q = normRef(q, perHead ? a.headDim : a.numHeads * a.headDim, await f32(w.attention.qNorm), null, spec.norm.eps, false);
      k = normRef(k, perHead ? a.headDim : a.numKvHeads * a.headDim, await f32(w.attention.kNorm), null, spec.norm.eps, false);
    }
    // OlmoeAttention: clip_qkv clamps after the q/k norms
    if (a.clipQkv !== null) for (const t of [q, k, v]) t.forEach((val, i) => (t[i] = Math.min(a.clipQkv!, Math.max(-a.clipQkv!, val))));
    q = ropeRef(q, a.numHeads, a.headDim, spec.rope.rotaryDim, 0, invFreq, attentionFactor);
    k = ropeRef(k, a.numKvHeads, a.headDim, spec.rope.rotaryDim, 0, invFreq, attentionFactor);
    const attn = attentionRef(q, k, v, { numHeads: a.numHeads, numKvHeads: a.numKvHeads, headDim: a.headDim, valueDim: a.headDim, pos0: 0, scale: a.scale, window: a.slidingWindow });
    addScaled(x, await linearOf(w.attention.o, attn, a.numHeads * a.headDim), spec.residualMultiplier);
    } else {
      throw new Error('spec and weights disagree on the attention kind');
    }

    // MLP or MoE block
    const h2 = await normOf(w.postAttentionNorm, x);
    let out: Float32Array;
    if (layer.mlp.kind === 'dense' || w.mlp.kind === 'dense') {
      if (w.mlp.kind !== 'dense') throw new Error('spec and weights disagree');
      out = expertFfnRef(h2, new Array(T).fill(0), new Array(T).fill(1), 1, H, [await swigluMatrices(w.mlp)]);
    } else {
      const m = layer.mlp;
      const logits = linearRef(h2, await f32(w.mlp.router), null, H);
      routerLogits.set(li, logits);
      const chosen = routingReference(logits, m.routing, m.numExperts, m.topK, w.mlp.correctionBias ? await f32(w.mlp.correctionBias) : null);
      out = expertFfnRef(h2, chosen.expertIds, chosen.weights, m.topK, H, await expertMatrices(w.mlp, m, H));
      if (w.mlp.shared) {
        const shared = expertFfnRef(h2, new Array(T).fill(0), new Array(T).fill(1), 1, H, [await swigluMatrices(w.mlp.shared)]);
        const gate = w.mlp.sharedGate ? linearRef(h2, await f32(w.mlp.sharedGate), null, H).map((g) => 1 / (1 + Math.exp(-g))) : new Float32Array(T).fill(1);
        for (let t = 0; t < T; t++) for (let i = 0; i < H; i++) out[t * H + i] = out[t * H + i]! + gate[t]! * shared[t * H + i]!;
      }
    }
    addScaled(x, out, spec.residualMultiplier);
  }
  x = await normOf(weights.finalNorm, x);
  const logits = linearRef(x, await f32(weights.lmHead), weights.lmHeadBias ? await f32(weights.lmHeadBias) : null, H).map((l) => l / spec.logitsScaling);
  return { logits, routerLogits };
}

/** Greedy continuation by full recomputation: the reference for the engine's cached decode. */
export async function referenceGreedy(spec: ModelSpec, weights: ModelWeights, prompt: readonly number[], newTokens: number): Promise<number[]> {
  const ids = [...prompt];
  const V = spec.vocabSize;
  for (let i = 0; i < newTokens; i++) {
    const { logits } = await referenceForward(spec, weights, ids);
    const last = logits.subarray((ids.length - 1) * V, ids.length * V);
    let best = 0;
    for (let j = 1; j < V; j++) if (last[j]! > last[best]!) best = j;
    ids.push(best);
  }
  return ids.slice(prompt.length);
}
