// The forward pass: one decoder stack over T new tokens at positions pos0 … pos0+T−1, recorded into one
// step Recorder (its buffers are reused each time a step of the same shape is recorded again). Reads like transformers' modeling files; one comment per step.

import { storageBuffer, uploadStorage, type Binding } from '../gpu/buffers.ts';
import { Recorder, RecordingCache } from '../gpu/recorder.ts';
import { SlopeLearner } from '../gpu/replayProgram.ts';
import type { Profiler, StepTimer } from '../gpu/timers.ts';
import type { GpuContext } from '../gpu/context.ts';
import { chooseFusable, expertFfn, expertFfnGrouped, expertHiddenFloats, foldedRouteFusable, routeFusable, sharedFusable, type ExpertBank, type FusedChoice, type FusedSharedExpert } from '../kernels/experts.ts';
import { foldRouter, routerFoldable } from '../kernels/routerFold.ts';
import { attendedPositions, attention, attentionSplits, elementwise, embed, linear, norm, normFoldable, qkvProjection, qkvProjectionFits, rope, ropeTables, type LinearArgs, type NormOnRead } from '../kernels/layers.ts';
import type { WeightRef } from '../kernels/weightRef.ts';
import { selectExperts, softmaxRenormalizes } from '../kernels/routing.ts';
import { ropeSchedule, type RopeSchedule } from '../model/rope.ts';
import { dispatch } from '../gpu/dispatch.ts';
import type { GqaAttention, MlaAttention, ModelSpec } from '../model/spec.ts';
import type { ExpertProbe } from './expertProbe.ts';
import type { GpuAttention, GpuLayer, GpuMla, GpuModel, GpuNorm } from './gpuModel.ts';
import { RoutingArena, type LayerRoutingRanges } from './routingArena.ts';

export interface StepBuffers {
  logits: GPUBuffer; // [rows, V] f32: every position, or the last one
  logitRows: number;
  routingArena: RoutingArena; // every MoE layer's router logits, expert ids and weights (read back later)
}

/** What one cache row holds: GQA keeps kvHeads heads of d; MLA keeps every head's decompressed k and v. */
function cacheGeometry(a: GqaAttention | MlaAttention): { heads: number; keyDim: number; valueDim: number } {
  return a.kind === 'gqa'
    ? { heads: a.numKvHeads, keyDim: a.headDim, valueDim: a.headDim }
    : { heads: a.numHeads, keyDim: a.qkNopeHeadDim + a.qkRopeHeadDim, valueDim: a.vHeadDim };
}

/**
 * What a block's first projections read: h = norm(x) itself, or (one token) the residual stream x with
 * the norm folded into them (NormOnRead), which saves the norm's dispatch.
 */
interface BlockInput {
  x: GPUBuffer;
  norm?: NormOnRead;
  /** The router's logits before the norm's scale, from o_proj (foldedRouter): the experts take the norm on read. */
  rawRouterLogits?: GPUBuffer;
}

/**
 * Where a block's last projection writes: a buffer of its own, later added to the stream by the next
 * norm, or (one token, norm folded) straight into the stream: x += scale · (out + pending), pending being
 * the previous block's output that no norm has added yet.
 */
interface BlockOutput {
  y: GPUBuffer;
  residual?: LinearArgs['residual'];
}

/** A step's f32 scratch tensor of `elements` values. */
function f32(enc: Recorder, elements: number, label: string): GPUBuffer {
  return enc.storage(elements * 4, label);
}

export class ForwardPass {
  private readonly kCache: GPUBuffer[] = []; // per layer [maxPositions, cache heads, key dim] f32
  private readonly vCache: GPUBuffer[] = [];
  private readonly cos: GPUBuffer; // [maxPositions, rotaryDim / 2]
  private readonly sin: GPUBuffer;
  private readonly rope: RopeSchedule;
  private readonly ones: GPUBuffer; // [maxTokens] f32: combine weights of dense MLPs
  private readonly zeros: GPUBuffer; // [maxTokens] u32: expert id 0 for dense MLPs

  constructor(
    private readonly ctx: GpuContext,
    private readonly spec: ModelSpec,
    private readonly model: GpuModel,
    readonly maxPositions: number,
  ) {
    const { device } = ctx;
    for (const layer of model.layers) {
      const g = cacheGeometry(layer.spec.attention);
      this.kCache.push(storageBuffer(device, maxPositions * g.heads * g.keyDim * 4, `k cache ${layer.spec.index}`));
      this.vCache.push(storageBuffer(device, maxPositions * g.heads * g.valueDim * 4, `v cache ${layer.spec.index}`));
    }
    // fixed RoPE: one table for the whole context; dynamic/longrope: each step writes its rows (encode)
    this.rope = ropeSchedule(spec.rope, spec.maxPositionEmbeddings, spec.architecture);
    if (this.rope.fixed) {
      const { invFreq, attentionFactor } = this.rope.forCall(maxPositions);
      const tables = ropeTables(invFreq, maxPositions, attentionFactor);
      this.cos = uploadStorage(device, tables.cos, 'rope cos');
      this.sin = uploadStorage(device, tables.sin, 'rope sin');
    } else {
      const bytes = maxPositions * (spec.rope.rotaryDim / 2) * 4;
      this.cos = storageBuffer(device, bytes, 'rope cos');
      this.sin = storageBuffer(device, bytes, 'rope sin');
    }
    this.ones = uploadStorage(device, new Float32Array(maxPositions).fill(1), 'ones');
    this.zeros = uploadStorage(device, new Uint32Array(maxPositions), 'zeros');
  }

  private readonly recordings = new Map<string, RecordingCache>();
  /** Per layer, the weights that fold its router into its o_proj (foldedRouter), computed at the first decode step. */
  private readonly routerFolds = new Map<number, Promise<GPUBuffer>>();
  /** Per step shape, the slopes its slots' caches learn together (SlopeLearner). */
  private readonly learners = new Map<string, SlopeLearner>();

  /** Whether a decode step's recording depends on nothing but its position (Recorder.replay): not with RoPE tables written per call. */
  get replayable(): boolean {
    return this.rope.fixed;
  }

  /**
   * What a decode step's commands depend on besides its position's Params words: how many workgroups
   * each layer's attention splits into (attentionSplits; it steps up as the context grows). Replay only
   * between steps that agree.
   */
  decodeShape(pos: number): string {
    const splits = this.model.layers.map(({ spec: { attention: a } }) =>
      attentionSplits(attendedPositions(pos, a.kind === 'gqa' ? a.slidingWindow : null), a.numHeads));
    return `attention splits ${splits.join(',')}`;
  }

  /** See RopeSchedule.recomputeAt. */
  get recomputeAt(): number | undefined {
    return this.rope.recomputeAt;
  }

  /**
   * A recorder for a step of `numTokens` tokens; steps of the same shape and `slot` reuse each other's
   * buffers (two slots let one step run while the next is recorded).
   */
  recorder(numTokens: number, allLogits: boolean, profiler: Profiler | null = null, slot = 0, timer: StepTimer | null = null): Recorder {
    const shape = `${numTokens}:${allLogits}`;
    const key = `${shape}:${slot}`;
    let cache = this.recordings.get(key);
    if (!cache) {
      // keep the decode steps' recordings and the latest prefill's: prompts of every length would pile up
      if (numTokens > 1) {
        for (const [k, c] of this.recordings) {
          if (!k.startsWith('1:')) {
            c.destroy();
            this.recordings.delete(k);
          }
        }
      }
      this.recordings.set(key, (cache = new RecordingCache()));
    }
    let learner = this.learners.get(shape);
    if (!learner && numTokens === 1) this.learners.set(shape, (learner = new SlopeLearner()));
    return new Recorder(this.ctx, cache, profiler, `step of ${numTokens} tokens`, timer, learner ?? null);
  }

  destroy(): void {
    for (const cache of this.recordings.values()) cache.destroy();
    this.learners.clear();
    for (const fold of this.routerFolds.values()) void fold.then((b) => b.destroy(), () => undefined); // a failed fold failed its step already
    this.routerFolds.clear();
    for (const b of [...this.kCache, ...this.vCache, this.cos, this.sin, this.ones, this.zeros]) b.destroy();
  }

  /**
   * Record the forward pass of `numTokens` tokens (ids [T] u32 on the GPU) starting at position pos0.
   * With a probe, every MoE layer also runs all its experts for the dynamic analyses (output unchanged).
   */
  async encode(enc: Recorder, ids: GPUBuffer, numTokens: number, pos0: number, allLogits: boolean, probe: ExpertProbe | null = null): Promise<StepBuffers> {
    const T = numTokens;
    if (pos0 + T > this.maxPositions) throw new RangeError(`positions ${pos0}..${pos0 + T - 1} exceed the context of ${this.maxPositions}`);
    const { ctx, spec, model } = this;
    const H = spec.hiddenSize;
    const V = spec.vocabSize;
    if (!this.rope.fixed) {
      // this call's frequencies for its rows; queued before the step's submit, after the previous step's
      // (which reads other rows)
      const { invFreq, attentionFactor } = this.rope.forCall(pos0 + T);
      const rows = ropeTables(invFreq, T, attentionFactor, pos0);
      ctx.device.queue.writeBuffer(this.cos, pos0 * invFreq.length * 4, rows.cos);
      ctx.device.queue.writeBuffer(this.sin, pos0 * invFreq.length * 4, rows.sin);
    }

    // x = embed_tokens(ids) · embedding_multiplier                                      [T, H]
    let x = f32(enc, T * H, 'residual [T,H]');
    await embed(ctx, enc, { ids, table: model.embed, out: x, numTokens: T, hidden: H, vocab: V, scale: spec.embeddingMultiplier });

    const h = f32(enc, T * H, 'normed [T,H]');
    const mlpOut = f32(enc, T * H, 'block output [T,H]');
    const moe = model.layers.flatMap(({ mlp, spec: { mlp: ms, index } }) => (mlp.kind === 'moe' && ms.kind === 'moe' ? [{ layer: index, numExperts: ms.numExperts, topK: ms.topK }] : []));
    const arena = new RoutingArena(enc, moe, T, ctx.device.limits.minStorageBufferOffsetAlignment);
    let moeIndex = 0; // MoE layers so far: this one's routing is the arena's range moeIndex
    const earlyReadsAt = new Set([1 / 2, 3 / 4, 7 / 8, 1].map((f) => Math.ceil(f * moe.length)));
    const { eps } = spec.norm;
    const rs = spec.residualMultiplier;
    let otherStream: GPUBuffer | null = null; // where a layer with a folded router writes the stream anew
    for (const [i, layer] of model.layers.entries()) {
      const pending = i === 0 ? undefined : mlpOut; // the previous layer's mlp(h), not yet in x
      let router: BlockInput | null = null;
      if (this.foldsNorms(layer, T)) {
        // one token: input_layernorm(x + mlp(h) · rs) inside the q/k/v projections; o_proj adds
        // mlp(h) · rs and self_attn(h) · rs to x; post_attention_layernorm(x) inside the router, which
        // also writes h for the experts (a dense MLP gets its own norm)
        const input: BlockInput = { x, norm: { weight: layer.inputNorm.weight, eps, pending: pending && { r: pending, scale: rs } } };
        const fold = this.foldedRouter(layer, T, probe !== null);
        if (fold) {
          // ... and o_proj also computes the router's logits before post_attention_layernorm's scale, which
          // the experts' gate/up dispatch applies as it takes the norm on read (no router dispatch); the
          // stream goes to the other buffer, as those logits read the one before
          const stream = (otherStream ??= f32(enc, T * H, 'residual [T,H], the other'));
          const rawRouterLogits = f32(enc, Math.ceil(fold.numExperts / 4) * 4, 'router logits before the norm [E]');
          const folded = { fold: await fold.weights, numExperts: fold.numExperts, logits: rawRouterLogits, from: x };
          await this.selfAttention(enc, layer, i, input, { y: stream, residual: { scale: rs, pending, router: folded } }, T, pos0);
          [otherStream, x] = [x, stream];
          router = { x, norm: { weight: layer.postAttentionNorm.weight, eps }, rawRouterLogits };
        } else {
          await this.selfAttention(enc, layer, i, input, { y: x, residual: { scale: rs, pending } }, T, pos0);
          if (layer.mlp.kind === 'moe' && this.foldable(T, layer.mlp.router, layer.postAttentionNorm)) {
            router = { x, norm: { weight: layer.postAttentionNorm.weight, eps, writeNormed: h } };
          } else {
            await this.norm(enc, layer.postAttentionNorm, x, h, T);
          }
        }
      } else {
        // h = input_layernorm(x), after the previous layer's x = x + mlp(h) · residual_multiplier
        await this.norm(enc, layer.inputNorm, x, h, T, pending);
        // x = x + self_attn(h) · residual_multiplier; h = post_attention_layernorm(x)
        await this.selfAttention(enc, layer, i, { x: h }, { y: mlpOut }, T, pos0);
        await this.norm(enc, layer.postAttentionNorm, x, h, T, mlpOut);
      }
      // the MoE block (or dense MLP) into mlpOut; its residual add joins the next layer's first step
      const routes = moe[moeIndex]?.layer === layer.spec.index; // an MoE layer: the arena's next range
      await this.mlp(enc, layer, h, mlpOut, T, routes ? arena.layer(moeIndex++) : null, router, probe !== null);
      if (probe && layer.mlp.kind === 'moe') await probe.record(enc, layer.mlp.experts, h, layer.spec.index);
      // a prefill's layers go to the GPU as they are recorded, and its routing is read back behind them in
      // chunks (half the MoE layers, a quarter, an eighth, the rest), so that little is left to turn into
      // trace rows when the GPU is done (a decode step is recorded while the previous one runs, and
      // replays as one unit)
      if (T > 1 && enc.submitSoFar() && routes && earlyReadsAt.has(moeIndex)) arena.readLayersNow(enc, moeIndex);
    }

    // logits = lm_head(norm(x)) / logits_scaling, for every position or only the last
    const rows = allLogits ? T : 1;
    let last = h;
    // x = x + mlp(h) · residual_multiplier; h = norm(x), times 1 / logits_scaling where the LM head has
    // no bias (lm_head(h / s) = lm_head(h) / s: no pass over the logits)
    const scaleInNorm = spec.logitsScaling !== 1 && model.lmHeadBias === null;
    await this.norm(enc, model.finalNorm, x, h, T, mlpOut, scaleInNorm ? 1 / spec.logitsScaling : 1);
    if (!allLogits && T > 1) {
      last = f32(enc, H, 'last position [1,H]');
      enc.copyBufferToBuffer(h, (T - 1) * H * 4, last, 0, H * 4);
    }
    const logits = enc.storage(rows * V * 4, 'logits [rows,V]');
    await linear(ctx, enc, { x: last, weight: model.lmHead, bias: model.lmHeadBias, y: logits, numTokens: rows, outputs: V, inputs: H });
    if (spec.logitsScaling !== 1 && !scaleInNorm) await elementwise(ctx, enc, { op: 'scale', a: logits, count: rows * V, scale: 1 / spec.logitsScaling });

    return { logits, logitRows: rows, routingArena: arena };
  }

  /** Whether `weight` can take norm `n` on read for a step of T tokens (see normFoldable). */
  private foldable(T: number, weight: WeightRef, n: GpuNorm): boolean {
    return n.bias === null && normFoldable(this.ctx, { numTokens: T, inputs: this.spec.hiddenSize, weight, normWeight: n.weight, layerNorm: this.spec.norm.kind === 'layer' });
  }

  /** Whether this layer's input norm folds into its first projections (and its o_proj into the stream). */
  private foldsNorms(layer: GpuLayer, T: number): boolean {
    const w = layer.attention;
    const first: WeightRef[] =
      w.kind === 'gqa'
        ? w.qkv.kind === 'stacked' ? [w.qkv.qkv.weight] : [w.qkv.q.weight, w.qkv.k.weight, w.qkv.v.weight]
        : [...(w.qA ? [w.qA.weight] : w.q ? [w.q.weight] : []), w.kvA.weight];
    return first.every((weight) => this.foldable(T, weight, layer.inputNorm));
  }

  /**
   * For a decode layer whose norms fold (foldsNorms), whether its router can run inside o_proj's dispatch
   * (shaders/router_fold.wgsl), and the weights for it: an MoE block with softmax routing that the experts'
   * gate/up dispatch chooses from (foldedRouteFusable), no shared expert, an RMSNorm, o_proj without bias;
   * not when the dynamic analyses need h itself (keepNormed).
   */
  private foldedRouter(layer: GpuLayer, T: number, keepNormed: boolean): { numExperts: number; weights: Promise<GPUBuffer> } | null {
    const { spec } = this;
    const m = layer.mlp;
    const ms = layer.spec.mlp;
    const a = layer.spec.attention;
    if (T !== 1 || keepNormed || m.kind !== 'moe' || ms.kind !== 'moe' || m.shared || m.sharedGate || m.gateInRouter) return null;
    const n = layer.postAttentionNorm;
    const o = layer.attention.o;
    if (softmaxRenormalizes(ms.routing) === null || spec.norm.kind === 'layer' || n.bias !== null || o.bias !== null) return null;
    const weights = {
      router: m.router, normWeight: n.weight, oProj: o.weight, numExperts: ms.numExperts, hidden: spec.hiddenSize,
      inputs: a.kind === 'gqa' ? a.numHeads * a.headDim : a.numHeads * a.vHeadDim,
    };
    if (!routerFoldable(weights) || !foldedRouteFusable(m.experts, n.weight, { numTokens: T, topK: ms.topK, hiddenSize: spec.hiddenSize })) return null;
    const index = layer.spec.index;
    let fold = this.routerFolds.get(index);
    if (!fold) this.routerFolds.set(index, (fold = foldRouter(this.ctx, weights, `router folded through o_proj ${index} [E,H+K]`)));
    return { numExperts: ms.numExperts, weights: fold };
  }

  /** y = norm(x) · outScale; with `residual`, first x += residual · residual_multiplier. */
  private norm(enc: Recorder, n: GpuNorm, x: GPUBuffer, y: GPUBuffer, rows: number, residual?: GPUBuffer, outScale = 1) {
    const { kind, eps } = this.spec.norm;
    const add = residual ? { residual, residualScale: this.spec.residualMultiplier } : {};
    return norm(this.ctx, enc, { x, y, weight: n.weight, bias: n.bias, numRows: rows, width: this.spec.hiddenSize, eps, layerNorm: kind === 'layer', outScale, ...add });
  }

  private selfAttention(enc: Recorder, layer: GpuLayer, index: number, input: BlockInput, out: BlockOutput, T: number, pos0: number) {
    const a = layer.spec.attention;
    const w = layer.attention;
    if (a.kind === 'gqa' && w.kind === 'gqa') return this.gqaAttention(enc, a, w, index, input, out, T, pos0);
    if (a.kind === 'mla' && w.kind === 'mla') return this.mlaAttention(enc, a, w, index, input, out, T, pos0);
    throw new Error(`layer ${index}: spec and weights disagree on the attention kind`);
  }

  /** q, k, v projections (one dispatch when stacked) → q/k norms → (clip) → RoPE (inside attention when decoding) → cache k, v → attention → o_proj, into `out`. */
  private async gqaAttention(enc: Recorder, a: GqaAttention, w: GpuAttention, index: number, input: BlockInput, out: BlockOutput, T: number, pos0: number) {
    const { ctx, spec } = this;
    const H = spec.hiddenSize;
    const qWidth = a.numHeads * a.headDim;
    // v goes straight to rows pos0 … pos0+T−1 of this layer's cache (past_key_values.update); so does k in
    // prefill, rotated where it lands
    const kCache = this.kCache[index]!;
    const vCache = this.vCache[index]!;
    const q = f32(enc, T * qWidth, 'q [T,heads,d]');
    // decode: the attention kernel applies the q/k norms, the clip and RoPE itself (fewer dispatches); k
    // goes to a scratch row it reads raw and writes rotated to the cache
    const kNew = T === 1 ? f32(enc, a.numKvHeads * a.headDim, 'new k [kvHeads,d]') : null;
    const norms = w.qkNorm ? { weight: w.qkNorm.weight, kOffset: w.qkNorm.kOffset, perHead: a.qkNorm === 'per-head', eps: spec.norm.eps } : null;
    const rotaryDim = spec.rope.rotaryDim;
    const p = w.qkv;
    const fused = p.kind === 'stacked' && !kNew && !input.norm
      ? {
        x: input.x, weight: p.qkv.weight, bias: p.qkv.bias, numTokens: T, inputs: H, numHeads: a.numHeads, numKvHeads: a.numKvHeads, headDim: a.headDim,
        q, kCache, vCache, pos0, cos: this.cos, sin: this.sin, rotaryDim, clip: a.clipQkv, norms,
      }
      : null;
    let attendQ = q;
    if (fused && qkvProjectionFits(fused)) {
      // prefill: the multiply's partial sums, then the q/k norms, clip and RoPE in one pass; k and v land in their cache rows
      await qkvProjection(ctx, enc, fused);
    } else {
      attendQ = await this.qkvApart(enc, a, w, index, input, T, pos0, q, kNew);
    }
    // a prefill's first layer goes to the GPU from here on, so that the GPU starts while the host records
    // the rest of the layer (later layers go one by one: encode)
    if (T > 1 && index === 0) enc.submitSoFar();
    const attn = f32(enc, T * qWidth, 'attention [T,heads,d]');
    await attention(ctx, enc, {
      q: attendQ, kCache, vCache, out: attn, numTokens: T,
      numHeads: a.numHeads, numKvHeads: a.numKvHeads, headDim: a.headDim, valueDim: a.headDim, pos0, scale: a.scale, window: a.slidingWindow,
      ...(kNew ? { rope: { cos: this.cos, sin: this.sin, rotaryDim, kNew, qkNorm: norms ? { ...norms, clip: a.clipQkv ?? undefined } : undefined } } : {}),
    });
    await linear(ctx, enc, { x: attn, weight: w.o.weight, bias: w.o.bias, y: out.y, residual: out.residual, numTokens: T, outputs: H, inputs: qWidth });
  }

  /**
   * gqaAttention's projections one step per dispatch (decode, q/k/v stored apart, or layers qkv_finish does
   * not take): q into `q`, k and v into their cache rows (decode: k into kNew, for attention to rotate);
   * then, in prefill, the q/k norms, the clip and RoPE. Returns the q that attention reads.
   */
  private async qkvApart(enc: Recorder, a: GqaAttention, w: GpuAttention, index: number, input: BlockInput, T: number, pos0: number, q: GPUBuffer, kNew: GPUBuffer | null): Promise<GPUBuffer> {
    const { ctx, spec } = this;
    const H = spec.hiddenSize;
    const [qWidth, kvWidth] = [a.numHeads * a.headDim, a.numKvHeads * a.headDim];
    const kCache = this.kCache[index]!;
    const vCache = this.vCache[index]!;
    const cacheRow = pos0 * kvWidth;
    const [kDest, kDestOffset] = kNew ? [kNew, 0] : [kCache, cacheRow];
    // q/k norms: decode applies them inside attention (before RoPE); prefill normalises k on its way to
    // the cache (a norm cannot write the buffer it reads)
    const perHead = a.qkNorm === 'per-head';
    const qkNorm = w.qkNorm;
    const normsApart = qkNorm !== null && !kNew;
    const kRaw = normsApart ? f32(enc, T * kvWidth, 'k [T,kvHeads,d]') : kDest;
    const kOffset = normsApart ? 0 : kDestOffset;
    const p = w.qkv;
    if (p.kind === 'stacked') {
      await linear(ctx, enc, {
        ...input, weight: p.qkv.weight, bias: p.qkv.bias, y: q, numTokens: T, outputs: qWidth, inputs: H,
        more: [{ y: kRaw, rows: kvWidth, outOffset: kOffset }, { y: vCache, rows: kvWidth, outOffset: cacheRow }],
      });
    } else {
      await linear(ctx, enc, { ...input, weight: p.q.weight, bias: p.q.bias, y: q, numTokens: T, outputs: qWidth, inputs: H });
      await linear(ctx, enc, { ...input, weight: p.k.weight, bias: p.k.bias, y: kRaw, numTokens: T, outputs: kvWidth, inputs: H, outOffset: kOffset });
      await linear(ctx, enc, { ...input, weight: p.v.weight, bias: p.v.bias, y: vCache, numTokens: T, outputs: kvWidth, inputs: H, outOffset: cacheRow });
    }
    // clip_qkv: q, k, v clamped to ±clip after the q/k norms (OLMoE's order), before RoPE; decode's
    // attention kernel clamps q and k itself when it applies their norms
    const clamp = async (buf: GPUBuffer, n: number, offset: number) => {
      if (a.clipQkv !== null) await elementwise(ctx, enc, { op: 'clamp', a: buf, count: T * n, scale: a.clipQkv, offset });
    };
    await clamp(vCache, kvWidth, cacheRow);
    if (qkNorm === null) {
      await clamp(q, qWidth, 0);
      await clamp(kRaw, kvWidth, kOffset);
    }
    let attendQ = q;
    if (normsApart) {
      // per head (Qwen3-MoE: rows of d) or over the whole projection (OLMoE: rows of heads·d)
      attendQ = f32(enc, T * qWidth, 'q normed');
      await norm(ctx, enc, { x: q, y: attendQ, weight: qkNorm.weight, bias: null, numRows: perHead ? T * a.numHeads : T, width: perHead ? a.headDim : qWidth, eps: spec.norm.eps, layerNorm: false });
      await norm(ctx, enc, { x: kRaw, y: kDest, outOffset: kDestOffset, weight: qkNorm.weight, weightOffset: qkNorm.kOffset, bias: null, numRows: perHead ? T * a.numKvHeads : T, width: perHead ? a.headDim : kvWidth, eps: spec.norm.eps, layerNorm: false });
      await clamp(attendQ, qWidth, 0);
      await clamp(kDest, kvWidth, kDestOffset);
    }
    if (!kNew) {
      await rope(ctx, enc, {
        tensors: [{ x: attendQ, numHeads: a.numHeads, headStride: a.headDim }, { x: kCache, numHeads: a.numKvHeads, headStride: a.headDim, headOffset: cacheRow }],
        cos: this.cos, sin: this.sin, numTokens: T, rotaryDim: spec.rope.rotaryDim, pos0,
      });
    }
    return attendQ;
  }

  /**
   * DeepSeek-V3 multi-head latent attention: q (through its LoRA and norm when present); the compressed
   * kv = kv_a_proj_with_mqa(h) splits into a latent (normed, then decompressed by kv_b_proj into every
   * head's k_nope and v) and one shared rope key; RoPE (interleaved pairs) on q's and k's rope parts;
   * full per-head k and v go to the cache; attention; o_proj.
   */
  private async mlaAttention(enc: Recorder, a: MlaAttention, w: GpuMla, index: number, input: BlockInput, out: BlockOutput, T: number, pos0: number) {
    const { ctx, spec } = this;
    const H = spec.hiddenSize;
    const eps = spec.norm.eps;
    const qkHead = a.qkNopeHeadDim + a.qkRopeHeadDim;
    const qWidth = a.numHeads * qkHead;
    const q = f32(enc, T * qWidth, 'q [T,heads,nope+rope]');
    if (w.qA && w.qANorm && w.qB && a.qLoraRank !== null) {
      const qa = f32(enc, T * a.qLoraRank, 'q latent');
      const qan = f32(enc, T * a.qLoraRank, 'q latent normed');
      await linear(ctx, enc, { ...input, weight: w.qA.weight, bias: w.qA.bias, y: qa, numTokens: T, outputs: a.qLoraRank, inputs: H });
      await norm(ctx, enc, { x: qa, y: qan, weight: w.qANorm, bias: null, numRows: T, width: a.qLoraRank, eps, layerNorm: false });
      await linear(ctx, enc, { x: qan, weight: w.qB.weight, bias: w.qB.bias, y: q, numTokens: T, outputs: qWidth, inputs: a.qLoraRank });
    } else if (w.q) {
      await linear(ctx, enc, { ...input, weight: w.q.weight, bias: w.q.bias, y: q, numTokens: T, outputs: qWidth, inputs: H });
    }
    const compressedWidth = a.kvLoraRank + a.qkRopeHeadDim;
    const compressed = f32(enc, T * compressedWidth, 'compressed kv [T,kvLora+rope]');
    await linear(ctx, enc, { ...input, weight: w.kvA.weight, bias: w.kvA.bias, y: compressed, numTokens: T, outputs: compressedWidth, inputs: H });
    const latent = f32(enc, T * a.kvLoraRank, 'kv latent normed');
    await norm(ctx, enc, { x: compressed, y: latent, weight: w.kvANorm, bias: null, numRows: T, width: a.kvLoraRank, eps, layerNorm: false, rowStride: compressedWidth });
    const kvWidth = a.numHeads * (a.qkNopeHeadDim + a.vHeadDim);
    const kv = f32(enc, T * kvWidth, 'kv [T,heads,nope+v]');
    await linear(ctx, enc, { x: latent, weight: w.kvB.weight, bias: w.kvB.bias, y: kv, numTokens: T, outputs: kvWidth, inputs: a.kvLoraRank });

    await rope(ctx, enc, {
      tensors: [{ x: q, numHeads: a.numHeads, headStride: qkHead, headOffset: a.qkNopeHeadDim }, { x: compressed, numHeads: 1, headStride: compressedWidth, headOffset: a.kvLoraRank }],
      cos: this.cos, sin: this.sin, numTokens: T, rotaryDim: a.qkRopeHeadDim, pos0, interleaved: a.ropeInterleave,
    });
    const keys = f32(enc, T * a.numHeads * qkHead, 'k [T,heads,nope+rope]');
    const values = f32(enc, T * a.numHeads * a.vHeadDim, 'v [T,heads,v]');
    await dispatch(ctx, enc, {
      shader: 'mla_assemble',
      params: [['u32', T], ['u32', a.numHeads], ['u32', a.qkNopeHeadDim], ['u32', a.qkRopeHeadDim], ['u32', a.vHeadDim], ['u32', compressedWidth]],
      buffers: [kv, compressed, keys, values],
      grid: [Math.ceil(Math.max(qkHead, a.vHeadDim) / 64), Math.min(T * a.numHeads, 65535), Math.ceil((T * a.numHeads) / 65535)],
    });
    const kRow = a.numHeads * qkHead;
    const vRow = a.numHeads * a.vHeadDim;
    enc.copyBufferToBuffer(keys, 0, this.kCache[index]!, pos0 * kRow * 4, T * kRow * 4);
    enc.copyBufferToBuffer(values, 0, this.vCache[index]!, pos0 * vRow * 4, T * vRow * 4);
    const attn = f32(enc, T * vRow, 'attention [T,heads,v]');
    await attention(ctx, enc, {
      q, kCache: this.kCache[index]!, vCache: this.vCache[index]!, out: attn, numTokens: T,
      numHeads: a.numHeads, numKvHeads: a.numHeads, headDim: qkHead, valueDim: a.vHeadDim, pos0, scale: a.scale, window: null,
    });
    await linear(ctx, enc, { x: attn, weight: w.o.weight, bias: w.o.bias, y: out.y, residual: out.residual, numTokens: T, outputs: H, inputs: vRow });
  }

  /**
   * Dense MLP, or router → top-k → experts (+ shared expert), into `out`; an MoE layer's routing into
   * `ranges`, its part of the step's routing arena. With `routerInput`, the router normalises x itself
   * and writes h for the experts (see encode), or where it can (and `keepNormed` does not ask for h) the
   * experts' gate/up dispatch runs the norm and the router itself, or (routerInput.rawRouterLogits) the
   * norm on the router's logits from o_proj.
   */
  private async mlp(enc: Recorder, layer: GpuLayer, h: GPUBuffer, out: GPUBuffer, T: number, ranges: LayerRoutingRanges | null, routerInput: BlockInput | null = null, keepNormed = false): Promise<void> {
    const { ctx, spec } = this;
    const H = spec.hiddenSize;
    let expertInput = h; // what the experts read: h, or the residual stream when they take the norm on read
    // prefill groups the pairs by expert (one grouped multiply per projection); decode reads the chosen
    // experts' rows directly, and can run a shared expert inside the same two dispatches
    const ffn = (bank: ExpertBank, expertIds: Binding, weights: Binding, topK: number, accumulate: boolean, sigmoidWeights = false, shared?: FusedSharedExpert, choose?: FusedChoice) =>
      T > 1
        ? expertFfnGrouped(ctx, enc, { bank, x: h, expertIds, weights, out, numTokens: T, topK, hiddenSize: H, accumulate, sigmoidWeights, alloc: (bytes, label) => enc.storage(bytes, label) })
        : expertFfn(ctx, enc, {
          bank, x: expertInput, expertIds, weights, hidden: f32(enc, expertHiddenFloats(bank, T, topK, shared?.bank ?? null), 'expert hidden [k,I] (+ shared [Is])'), out, numTokens: T, topK, hiddenSize: H, accumulate, sigmoidWeights,
          ...(shared ? { shared } : {}), ...(choose ? { choose } : {}),
        });
    const dense = (bank: ExpertBank, weights: GPUBuffer, accumulate: boolean, sigmoidWeights = false) => ffn(bank, this.zeros, weights, 1, accumulate, sigmoidWeights);
    const m = layer.mlp;
    const ms = layer.spec.mlp;
    if (m.kind === 'dense' || ms.kind === 'dense') {
      if (m.kind === 'dense') await dense(m.bank, this.ones, false);
      return;
    }
    if (!ranges) throw new Error(`layer ${layer.spec.index}: an MoE block needs its routing arena range`);
    // router_logits = gate(h) in f32                                                  [T, E]
    const E = ms.numExperts;
    const k = ms.topK;
    const { routerLogits, expertIds, weights } = ranges;
    // (with a shared expert gated by sigmoid(shared_expert_gate(h)): its logit from the same dispatch)
    const gate = m.gateInRouter || m.sharedGate ? f32(enc, T, 'shared expert gate logit [T]') : null;
    // experts, weights = the architecture's routing rule over the logits; a decode step with softmax
    // routing chooses them inside the experts' gate/up dispatch instead (one dispatch fewer per layer),
    // and without a shared expert, runs the norm there too, with the router's logits from o_proj
    // (foldedRouter) or, where the router is small (routeFusable), the router itself (one more)
    const renormalize = softmaxRenormalizes(ms.routing);
    const chooses = T === 1 && renormalize !== null && chooseFusable(m.experts, H, k);
    const norm = routerInput?.norm;
    const rawLogits = routerInput?.rawRouterLogits;
    const onRead = chooses && norm && !norm.pending && !keepNormed && !m.shared && !gate ? { normWeight: norm.weight, eps: norm.eps, ...(rawLogits ? { rawLogits } : { router: m.router }) } : undefined;
    const route = onRead && routeFusable(ctx, m.experts, onRead, { numTokens: T, topK: k, hiddenSize: H }) ? onRead : undefined;
    if (rawLogits && !route) throw new Error(`layer ${layer.spec.index}: o_proj computed the router, but the experts cannot take its logits (see foldedRouter)`);
    if (route && routerInput) {
      expertInput = routerInput.x;
    } else {
      await linear(ctx, enc, {
        ...(routerInput ?? { x: h }), weight: m.router, bias: null, y: routerLogits.buffer, outOffset: (routerLogits.offset ?? 0) / 4, numTokens: T, outputs: E, inputs: H,
        ...(m.gateInRouter && gate ? { more: [{ y: gate, rows: 1 }] } : {}),
      });
    }
    const choose = chooses ? { logits: routerLogits, numExperts: E, renormalize, route } : undefined;
    const chosen = choose ? { expertIds, weights } : await selectExperts(ctx, enc, { logits: routerLogits, rule: ms.routing, numTokens: T, numExperts: E, topK: k, correctionBias: m.correctionBias?.buffer ?? null, into: { expertIds, weights } });
    // the shared expert's weight: sigmoid(shared_expert_gate(h)) (the combine takes the sigmoid), or 1 ungated
    if (m.shared && m.sharedGate && gate) await linear(ctx, enc, { x: h, weight: m.sharedGate, bias: null, y: gate, numTokens: T, outputs: 1, inputs: H });
    const sharedWeight = gate ? { weights: gate, sigmoid: true } : { weights: this.ones, sigmoid: false };
    // decode: out = Σ_k weight · expert(h) + shared weight · shared_expert(h), in the routed experts' two dispatches
    const fused = T === 1 && m.shared && sharedFusable(m.experts, m.shared, H) ? { bank: m.shared, ...sharedWeight } : undefined;
    // out = Σ_k weight · expert(h)
    await ffn(m.experts, chosen.expertIds, chosen.weights, k, false, false, fused, choose);
    // out += shared weight · shared_expert(h)
    if (m.shared && !fused) await dense(m.shared, sharedWeight.weights, true, sharedWeight.sigmoid);
  }
}
