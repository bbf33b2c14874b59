// Host side of the per-token layers: embedding, norms, linear layers, RoPE, attention, element-wise
// steps and greedy sampling. Each function records one dispatch (a split multiply two, decode attention
// split over positions two); shapes in elements.

import { allocate, allocateShared, type Encoder } from '../gpu/recorder.ts';
import { dispatchGrid } from '../gpu/buffers.ts';
import { dispatch, type ParamField } from '../gpu/dispatch.ts';
import type { GpuContext } from '../gpu/context.ts';
import { alignedRows, tileVectorLoads, weightDtypeConstant, type WeightRef } from './weightRef.ts';

const WG = 64;
const groups = (n: number) => Math.ceil(n / WG);

export function embed(ctx: GpuContext, enc: Encoder, a: { ids: GPUBuffer; table: WeightRef; out: GPUBuffer; numTokens: number; hidden: number; vocab: number; scale: number }) {
  return dispatch(ctx, enc, {
    shader: 'embedding',
    constants: { WEIGHT_DTYPE: weightDtypeConstant(a.table.dtype) },
    params: [['u32', a.numTokens], ['u32', a.hidden], ['u32', a.vocab], ['f32', a.scale]],
    buffers: [a.ids, a.table.buffer, a.out],
    grid: [groups(a.hidden), a.numTokens],
  });
}

export function norm(
  ctx: GpuContext,
  enc: Encoder,
  a: {
    x: GPUBuffer; y: GPUBuffer; weight: WeightRef; bias: WeightRef | null; numRows: number; width: number; eps: number; layerNorm: boolean; rowStride?: number;
    /** Element of y where row 0 goes (rows of y are `width` apart): e.g. a cache's row pos0. */
    outOffset?: number;
    /** Element of `weight` (and bias) where this norm's values begin: e.g. k's norm after q's. */
    weightOffset?: number;
    /** First x += residual · residualScale (written back to x): the residual add before a block norm. */
    residual?: GPUBuffer; residualScale?: number;
    /** Then y times this (the final norm folds 1 / logits_scaling in, where the LM head has no bias). */
    outScale?: number;
  },
) {
  return dispatch(ctx, enc, {
    shader: 'norm',
    constants: { WEIGHT_DTYPE: weightDtypeConstant(a.weight.dtype) },
    params: [
      ['u32', a.numRows], ['u32', a.width], ['f32', a.eps], ['u32', a.layerNorm ? 1 : 0], ['u32', a.bias ? 1 : 0], ['u32', a.rowStride ?? a.width],
      ['u32', a.residual ? 1 : 0], ['f32', a.residualScale ?? 1], ['u32', a.outOffset ?? 0], ['u32', a.weightOffset ?? 0], ['f32', a.outScale ?? 1],
    ],
    buffers: [a.x, a.weight.buffer, (a.bias ?? a.weight).buffer, a.y, a.residual ?? ctx.placeholder()],
    grid: dispatchGrid(a.numRows, ctx.device.limits.maxComputeWorkgroupsPerDimension),
  });
}

/** Up to this many tokens, linear layers run a matrix-vector kernel (each weight read once for all tokens); a workgroup of matvec_rows takes this many. */
export const MATVEC_MAX_TOKENS = 8;
const MATVEC_ROWS = 8; // output rows per workgroup of matvec_rows.wgsl
const MATMUL_TOKENS = 64; // tokens per workgroup of matmul.wgsl (tile_multiply_64's A_ROWS)
const MATMUL_OUTPUTS = 128; // outputs per workgroup (B_ROWS)
const MATMUL_STEP = 16; // inputs per staged step (tile_staging's STEP): a split's chunks are whole steps
const SPLIT_TARGET = 512; // workgroups a split multiply aims for (H100, 64 × 128 tiles: 512 rather than 1,024 made OLMoE's prefill 3.5% faster, Qwen's 1.3%; 32 × 128 tiles: 256 of them ran at 78% of the FLOP rate of 1,024)
const SPLIT_MIN_INPUTS = 256; // inputs per chunk, at least
const SPLIT_MAX = 16; // split_partials.wgsl's MAX_SPLITS

/**
 * How matmul.wgsl splits a multiply's K inputs: into as many chunks as bring `tiles` workgroups to about
 * SPLIT_TARGET, each at least SPLIT_MIN_INPUTS long and a whole number of staged steps. One chunk (no
 * split) when the tiles are enough, the rows short, or the outputs not a multiple of 4.
 */
export function matmulSplit(tiles: number, inputs: number, outputs: number): { splits: number; kChunk: number } {
  if (outputs % 4 !== 0) return { splits: 1, kChunk: inputs }; // matmul.wgsl keeps partial sums as vec4s
  const wanted = Math.min(SPLIT_MAX, Math.floor(inputs / SPLIT_MIN_INPUTS), 2 ** Math.ceil(Math.log2(SPLIT_TARGET / tiles)));
  if (wanted < 2) return { splits: 1, kChunk: inputs };
  const kChunk = Math.ceil(inputs / wanted / MATMUL_STEP) * MATMUL_STEP;
  return { splits: Math.ceil(inputs / kChunk), kChunk };
}

/** matmulSplit for matmul.wgsl's tiles over numTokens × N outputs. */
export function tiledSplit(numTokens: number, inputs: number, N: number): { splits: number; kChunk: number } {
  return matmulSplit(Math.ceil(N / MATMUL_OUTPUTS) * Math.ceil(numTokens / MATMUL_TOKENS), inputs, N);
}

/** Rows of a stacked weight that go to their own output (see shaders/linear_output.wgsl). */
export interface LinearPart {
  y: GPUBuffer;
  rows: number;
  outStride?: number | undefined;
  outOffset?: number | undefined;
}

/** A residual branch not yet added to the stream: r · scale (the residual multiplier). */
export interface PendingBranch {
  r: GPUBuffer; // [T, width] f32
  scale: number;
}

/**
 * The block norm folded into a one-token linear layer: it reads x as the residual stream and multiplies
 * h = RMSNorm(x + pending) · weight (see shaders/matvec_rows.wgsl); `writeNormed` also receives h (it
 * takes the place of a third output part).
 */
export interface NormOnRead {
  weight: WeightRef; // [K], the same dtype as the layer's weight
  eps: number;
  pending?: PendingBranch | undefined;
  writeNormed?: GPUBuffer | undefined;
}

/**
 * The next block's RMSNorm and router folded into a one-token residual branch (decode o_proj; see
 * shaders/router_fold.wgsl): E more workgroups write the router logits before the norm's scale, and the
 * stream is written anew into y from `from` rather than in place (those workgroups read it).
 */
export interface FoldedRouter {
  fold: GPUBuffer; // [E, H + K] f32 (foldRouter)
  numExperts: number; // E
  logits: GPUBuffer; // [E] f32, written
  from: GPUBuffer; // [H] f32: the stream before the branch
}

/** Arguments of linear(). */
export interface LinearArgs {
  x: GPUBuffer;
  weight: WeightRef;
  bias: WeightRef | null;
  y: GPUBuffer;
  numTokens: number;
  outputs: number;
  inputs: number;
  outStride?: number;
  outOffset?: number;
  more?: readonly LinearPart[];
  /** See NormOnRead; only where normFoldable() says so. */
  norm?: NormOnRead | undefined;
  /**
   * y += scale · (x · Wᵀ (+ b) + pending.r): the layer is a residual branch (one token, one part); with
   * `router`, y = router.from + scale · (x · Wᵀ + pending.r) and the router logits too (FoldedRouter).
   */
  residual?: { scale: number; pending?: GPUBuffer | undefined; router?: FoldedRouter | undefined } | undefined;
  /**
   * Many tokens: only the multiply's partial sums into this buffer ([S, T, N] f32, S from matmulSplit,
   * no bias), for a kernel that finishes them (qkvProjection); y is not written.
   */
  partialsOnly?: GPUBuffer | undefined;
}

/**
 * Whether linear() can fold a norm into this layer: one token, rows streamed 16 bytes per load, an RMSNorm
 * weight of the layer's dtype, and room in workgroup memory for the normed row (beside the kernel's 2 KB).
 */
export function normFoldable(ctx: GpuContext, a: { numTokens: number; inputs: number; weight: WeightRef; normWeight: WeightRef; layerNorm: boolean }): boolean {
  return (
    a.numTokens === 1 && !a.layerNorm && alignedRows(a.inputs, a.weight) && a.normWeight.dtype === a.weight.dtype &&
    a.inputs * 4 + 2048 <= ctx.device.limits.maxComputeWorkgroupStorageSize
  );
}

/**
 * y[t, outOffset + n] = x[t] · W[n] (+ b[n]) for W [N, K]. With `more`, W stacks several projections
 * (q, k, v): its first `outputs` rows go to y, the next parts' rows to theirs; all in one dispatch (a
 * multiply split over its inputs, two: see matmulSplit).
 */
export function linear(ctx: GpuContext, enc: Encoder, a: LinearArgs) {
  const more = a.more ?? [];
  if (more.length > 2) throw new RangeError(`linear: at most 3 output parts, got ${more.length + 1}`);
  const parts: LinearPart[] = [{ y: a.y, rows: a.outputs, outStride: a.outStride, outOffset: a.outOffset }, ...more];
  const N = parts.reduce((n, p) => n + p.rows, 0);
  const few = a.numTokens <= MATVEC_MAX_TOKENS;
  // rows on 16-byte boundaries can be streamed 16 bytes per load (matvec_rows); others one value at a time.
  // Many tokens: tiles (matmul), unless the outputs fill at most one column of them (a router): then
  // matvec_rows over blocks of 8 tokens keeps far more workgroups busy (OLMoE's router over 512 tokens:
  // 16 tiles took 145 µs on an H100)
  const aligned = alignedRows(a.inputs, a.weight);
  const shader = few ? (aligned ? 'matvec_rows' : 'matvec') : aligned && N <= MATMUL_OUTPUTS ? 'matvec_rows' : 'matmul';
  const { norm, residual } = a;
  if (norm || residual) {
    if (norm && !normFoldable(ctx, { numTokens: a.numTokens, inputs: a.inputs, weight: a.weight, normWeight: norm.weight, layerNorm: false })) {
      throw new RangeError(`linear: a norm folds only into one token's aligned rows with a same-dtype weight (T=${a.numTokens}, K=${a.inputs})`);
    }
    if (residual && (a.numTokens !== 1 || shader !== 'matvec_rows' || more.length > 0)) throw new RangeError('linear: a residual branch output needs one token, one part, aligned rows');
    if (norm && residual) throw new RangeError('linear: a norm on read and a residual branch output cannot share one dispatch');
    if (norm?.writeNormed && more.length > 1) throw new RangeError('linear: writeNormed takes the third output, so two parts at most');
    if (residual?.router && a.bias) throw new RangeError('linear: a folded router needs a branch without bias');
  }
  const router = residual?.router;
  const workgroups = shader === 'matvec_rows' ? Math.ceil(N / MATVEC_ROWS) + (router?.numExperts ?? 0) : N;
  const x = Math.min(workgroups, 65535);
  const tokenBlocks = shader === 'matvec_rows' ? Math.ceil(a.numTokens / MATVEC_MAX_TOKENS) : 1; // matvec_rows' grid z
  const split1 = a.outputs;
  const split2 = split1 + (more[0]?.rows ?? N - split1);
  // unused output parts: writeNormed's h, or a folded router's logits and the stream it reads
  const spare = [null, router?.logits, norm?.writeNormed ?? router?.from];
  const part = (i: number) => parts[i] ?? { y: spare[i] ?? ctx.placeholder(i), rows: 0 };
  const pending = norm?.pending?.r ?? residual?.pending;
  // matmul: tiles of 64 tokens × 128 outputs, split over the inputs when they are few (see matmulSplit)
  const tileGrid = [Math.ceil(N / MATMUL_OUTPUTS), Math.ceil(a.numTokens / MATMUL_TOKENS)] as const;
  const { splits, kChunk } = shader === 'matmul' ? tiledSplit(a.numTokens, a.inputs, N) : { splits: 1, kChunk: a.inputs };
  const partials = a.partialsOnly ?? (splits > 1 ? allocateShared(ctx, enc, splits * a.numTokens * N * 4, 'split multiply partial sums [S,T,N]') : ctx.placeholder(5));
  const run = (phase: number, grid: readonly [number, number, number]) =>
    dispatch(ctx, enc, {
      shader,
      constants: {
        WEIGHT_DTYPE: weightDtypeConstant(a.weight.dtype),
        ...(norm ? { NORM: 1, NORMED_VEC4S: a.inputs / 4 } : {}),
        ...(router ? { ROUTER_FOLD: 1 } : {}),
        ...(shader === 'matmul' ? { VECTOR_LOADS: tileVectorLoads(a.inputs), SPLIT_PHASE: phase } : {}),
      },
      params: [
        ['u32', a.numTokens], ['u32', N], ['u32', a.inputs], ['u32', a.bias ? 1 : 0], ['u32', split1], ['u32', split2],
        ...[0, 1, 2].map((i): ParamField => ['u32', part(i).outStride ?? part(i).rows]),
        ...[0, 1, 2].map((i): ParamField => ['u32', part(i).outOffset ?? 0]),
        ['f32', norm?.eps ?? 0], ['u32', pending ? 1 : 0], ['f32', norm?.pending?.scale ?? residual?.scale ?? 1], ['u32', norm?.writeNormed ? 1 : 0], ['u32', residual ? 1 : 0],
        ['u32', kChunk], ['u32', splits],
      ],
      buffers: [
        a.x, a.weight.buffer, (a.bias ?? a.weight).buffer, part(0).y, part(1).y, part(2).y,
        ...(shader === 'matvec_rows' ? [norm?.weight.buffer ?? router?.fold ?? ctx.placeholder(3), pending ?? ctx.placeholder(4)] : []),
        ...(shader === 'matmul' ? [partials] : []),
      ],
      grid,
      ...(phase === 2 ? { label: 'matmul (sum of split partials)' } : {}),
    });
  if (a.partialsOnly && shader !== 'matmul') throw new RangeError(`linear: partial sums come from the tiled multiply (T=${a.numTokens}, N=${N})`);
  if (shader !== 'matmul') return run(0, [x, Math.ceil(workgroups / x), tokenBlocks]);
  if (a.partialsOnly) {
    if (N % 4 !== 0) throw new RangeError(`linear: partial sums need outputs in fours, got ${N}`);
    return run(1, [...tileGrid, splits]);
  }
  if (splits === 1) return run(0, [...tileGrid, 1]);
  // partial sums over each chunk of the inputs, then their sum (+ bias) into y: 128 vec4s of y per workgroup
  const sumGroups = Math.ceil((a.numTokens * N) / 4 / 128);
  const sumX = Math.min(sumGroups, 65535);
  return run(1, [...tileGrid, splits]).then(() => run(2, [sumX, Math.ceil(sumGroups / sumX), 1]));
}

/** Floats of q and k that qkv_finish.wgsl holds in workgroup memory (its ROW_FLOATS). */
const QKV_FINISH_FLOATS = 7168;

/** The q/k norms qkvProjection applies (its clip is an argument of its own, for models without norms). */
export type QkvNorms = Omit<QkNormOnRead, 'clip'>;

/** Arguments of qkvProjection: a prefill's stacked q/k/v projection, finished into q and the caches. */
export interface QkvProjectionArgs {
  x: GPUBuffer; // [T, H] f32
  weight: WeightRef; // [heads·d + 2·kvHeads·d, H]: q, k, v rows stacked
  bias: WeightRef | null;
  numTokens: number;
  inputs: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  q: GPUBuffer; // out [T, heads·d]
  kCache: GPUBuffer; // rows pos0 … pos0+T−1 written: [maxPos, kvHeads·d]
  vCache: GPUBuffer;
  pos0: number;
  cos: GPUBuffer; // [maxPos, rotaryDim / 2]
  sin: GPUBuffer;
  rotaryDim: number;
  norms: QkvNorms | null;
  clip: number | null;
}

/**
 * Whether qkvProjection takes this layer: a tiled multiply's token count, q and k within qkv_finish's
 * workgroup memory, widths in fours, RoPE on whole pairs of a head, norm weights and bias of one dtype.
 */
export function qkvProjectionFits(a: Omit<QkvProjectionArgs, 'x' | 'q' | 'kCache' | 'vCache' | 'cos' | 'sin'>): boolean {
  const [qWidth, kvWidth] = [a.numHeads * a.headDim, a.numKvHeads * a.headDim];
  const N = qWidth + 2 * kvWidth;
  const dtypes = new Set([a.bias?.dtype, a.norms?.weight.dtype].filter((d) => d !== undefined));
  return (
    a.numTokens > MATVEC_MAX_TOKENS && N > MATMUL_OUTPUTS && alignedRows(a.inputs, a.weight) &&
    qWidth + kvWidth <= QKV_FINISH_FLOATS && a.headDim % 4 === 0 && a.rotaryDim % 2 === 0 && a.rotaryDim <= a.headDim &&
    dtypes.size <= 1 && (!a.norms?.perHead || a.numHeads + a.numKvHeads <= 256)
  );
}

/**
 * q, k, v = x · Wᵀ (+ b) for a prefill, then q/k norms, clip and RoPE, q into `q` and k, v into their
 * cache rows: the multiply's partial sums (matmul, one chunk or more) and one qkv_finish dispatch.
 */
export async function qkvProjection(ctx: GpuContext, enc: Encoder, a: QkvProjectionArgs): Promise<void> {
  if (!qkvProjectionFits(a)) throw new RangeError(`qkvProjection: a layer it does not take (T=${a.numTokens}, heads ${a.numHeads}/${a.numKvHeads} of ${a.headDim})`);
  const [qWidth, kvWidth] = [a.numHeads * a.headDim, a.numKvHeads * a.headDim];
  const N = qWidth + 2 * kvWidth;
  const { splits } = tiledSplit(a.numTokens, a.inputs, N);
  const partials = allocateShared(ctx, enc, splits * a.numTokens * N * 4, 'split multiply partial sums [S,T,N]');
  await linear(ctx, enc, { x: a.x, weight: a.weight, bias: null, y: ctx.placeholder(), numTokens: a.numTokens, outputs: N, inputs: a.inputs, partialsOnly: partials });
  const norms = a.norms;
  await dispatch(ctx, enc, {
    shader: 'qkv_finish',
    constants: { QK_NORM: norms ? (norms.perHead ? 2 : 1) : 0, WEIGHT_DTYPE: weightDtypeConstant(a.bias?.dtype ?? norms?.weight.dtype ?? 'BF16') },
    params: [
      ['u32', a.numTokens], ['u32', splits], ['u32', qWidth], ['u32', kvWidth], ['u32', a.headDim], ['u32', a.bias ? 1 : 0],
      ['f32', norms?.eps ?? 0], ['u32', norms?.kOffset ?? 0], ['f32', a.clip ?? 0], ['u32', a.rotaryDim], ['u32', a.pos0],
    ],
    buffers: [partials, a.bias?.buffer ?? ctx.placeholder(2), norms?.weight.buffer ?? ctx.placeholder(3), a.cos, a.sin, a.q, a.kCache, a.vCache],
    grid: dispatchGrid(a.numTokens, ctx.device.limits.maxComputeWorkgroupsPerDimension),
  });
}

/**
 * cos/sin of every (position, frequency) angle for positions first … first+count−1 ([count, half] each),
 * f32 angle as PyTorch computes it, exact cos/sin.
 */
export function ropeTables(invFreq: Float32Array, count: number, attentionFactor: number, first = 0): { cos: Float32Array<ArrayBuffer>; sin: Float32Array<ArrayBuffer> } {
  const half = invFreq.length;
  const cos = new Float32Array(count * half);
  const sin = new Float32Array(count * half);
  for (let r = 0; r < count; r++) {
    for (let i = 0; i < half; i++) {
      const angle = Math.fround((first + r) * invFreq[i]!);
      cos[r * half + i] = Math.cos(angle) * attentionFactor;
      sin[r * half + i] = Math.sin(angle) * attentionFactor;
    }
  }
  return { cos, sin };
}

/** One tensor RoPE rotates: [T, numHeads, headStride] f32 from element headOffset (e.g. a cache's row pos0). */
export interface RopeTensor {
  x: GPUBuffer;
  numHeads: number;
  headStride: number;
  headOffset?: number;
}

/** RoPE in place on one or two tensors (q and k) in one dispatch. */
export function rope(
  ctx: GpuContext,
  enc: Encoder,
  a: { tensors: readonly [RopeTensor] | readonly [RopeTensor, RopeTensor]; cos: GPUBuffer; sin: GPUBuffer; numTokens: number; rotaryDim: number; pos0: number; interleaved?: boolean },
) {
  if (a.interleaved && a.rotaryDim > 128) throw new RangeError(`interleaved RoPE supports up to 128 rotary dims, got ${a.rotaryDim}`);
  const [first, second] = a.tensors;
  const fields = (t: RopeTensor | undefined): ParamField[] => [['u32', t?.numHeads ?? 0], ['u32', t?.headStride ?? 0], ['u32', t?.headOffset ?? 0]];
  return dispatch(ctx, enc, {
    shader: 'rope',
    constants: { INTERLEAVED: a.interleaved ? 1 : 0 },
    params: [['u32', a.numTokens], ['u32', a.rotaryDim], ['u32', a.pos0], ...fields(first), ...fields(second)],
    buffers: [a.cos, a.sin, first.x, second?.x ?? ctx.placeholder()],
    grid: dispatchGrid(a.numTokens * (first.numHeads + (second?.numHeads ?? 0)), ctx.device.limits.maxComputeWorkgroupsPerDimension),
  });
}

/** RMSNorms of q and of the new key applied inside decode attention (see shaders/attention.wgsl). */
export interface QkNormOnRead {
  weight: WeightRef; // q's norm weight [heads·d] (or [d] when perHead), then k's from element kOffset
  kOffset: number;
  perHead: boolean;
  eps: number;
  /** q and the new key clamped to ±clip after their norms, before RoPE (OLMoE's clip_qkv); none if absent. */
  clip?: number | undefined;
}

/** What attention_tiled.wgsl handles: query tokens per block, blocks per workgroup, head dims, workgroup memory it declares. */
const TILED_ATTENTION = { queries: 16, blocksPerWorkgroup: 2, maxDim: 128, workgroupBytes: 29_248 };
const tiledDim = (dim: number) => dim <= TILED_ATTENTION.maxDim && dim % 4 === 0;

/** Positions per block of attention.wgsl; a split takes every S-th block. */
const ATTENTION_BLOCK = 64;
const MAX_ATTENTION_SPLITS = 32;

/**
 * How many workgroups per head decode attention spreads a query's `positions` over (a power of two, so
 * that it changes rarely as a context grows): 1 up to 7 blocks of 64, then one per two blocks, at most
 * 32 and at most what brings the dispatch to ~512 workgroups.
 */
export function attentionSplits(positions: number, numHeads: number): number {
  const blocks = Math.ceil(positions / ATTENTION_BLOCK);
  const limit = Math.min(MAX_ATTENTION_SPLITS, Math.max(1, 2 ** Math.floor(Math.log2(512 / numHeads))));
  if (blocks < 8) return 1;
  return Math.min(limit, 2 ** Math.floor(Math.log2(blocks / 2)));
}

/** Positions the query at position `last` attends to (a sliding window keeps the latest `window`). */
export function attendedPositions(last: number, window: number | null): number {
  return window ? Math.min(last + 1, window) : last + 1;
}

export async function attention(
  ctx: GpuContext,
  enc: Encoder,
  a: {
    q: GPUBuffer; kCache: GPUBuffer; vCache: GPUBuffer; out: GPUBuffer; numTokens: number; numHeads: number; numKvHeads: number; headDim: number; valueDim: number; pos0: number; scale: number; window: number | null;
    /**
     * Decode (one token): apply RoPE here (pairs (i, i + rotaryDim/2)) to q and to the new key, which is
     * read raw from kNew [kvHeads, d] and written rotated to its cache row.
     */
    rope?: { cos: GPUBuffer; sin: GPUBuffer; rotaryDim: number; kNew: GPUBuffer; qkNorm?: QkNormOnRead | undefined };
    /**
     * Decode (one token): workgroups per head (attentionSplits' choice by default; 1 below 448 positions).
     * Above 1 they write partial softmaxes to a scratch buffer, merged by a second dispatch.
     */
    splits?: number;
  },
) {
  if (a.valueDim > 256 || a.headDim > 256) throw new RangeError(`attention: head dims ${a.headDim}/${a.valueDim} exceed 256`);
  if (a.rope && a.numTokens !== 1) throw new RangeError(`attention: RoPE inside attention is for one token, got ${a.numTokens}`);
  // many queries: blocks of 16 share each staged key/value block (attention_tiled.wgsl); one query, or
  // head sizes its tiles do not take, or too little workgroup memory: one workgroup per (query, head)
  const tiled =
    a.numTokens > 1 && tiledDim(a.headDim) && tiledDim(a.valueDim) &&
    ctx.device.limits.maxComputeWorkgroupStorageSize >= TILED_ATTENTION.workgroupBytes;
  const queryBlocks = Math.ceil(a.numTokens / TILED_ATTENTION.queries);
  const workgroups = tiled ? Math.ceil(queryBlocks / TILED_ATTENTION.blocksPerWorkgroup) * a.numHeads : a.numTokens * a.numHeads;
  const qkNorm = a.rope?.qkNorm;
  const ropeBuffers = a.rope ? [a.rope.cos, a.rope.sin, a.rope.kNew] : [ctx.placeholder(), ctx.placeholder(), ctx.placeholder()];
  const normBuffer = qkNorm?.weight.buffer ?? ctx.placeholder(3);
  const splits = a.numTokens === 1 ? (a.splits ?? attentionSplits(attendedPositions(a.pos0, a.window), a.numHeads)) : 1;
  if (!Number.isInteger(splits) || splits < 1 || splits > ctx.device.limits.maxComputeWorkgroupsPerDimension) throw new RangeError(`attention: ${splits} splits per head`);
  const rows = a.numTokens * a.numHeads;
  const partials = splits > 1 ? allocate(ctx, enc, rows * splits * (a.valueDim + 2) * 4, 'attention partials [heads,S,dv+2]') : null;
  const grid = dispatchGrid(workgroups, ctx.device.limits.maxComputeWorkgroupsPerDimension);
  await dispatch(ctx, enc, {
    shader: tiled ? 'attention_tiled' : 'attention',
    ...(tiled ? { constants: { HEAD_VEC4S: a.headDim / 4, VALUE_VEC4S: a.valueDim / 4 } } : { constants: { ROPE: a.rope ? 1 : 0, QK_NORM: qkNorm ? (qkNorm.perHead ? 2 : 1) : 0, ...(qkNorm ? { WEIGHT_DTYPE: weightDtypeConstant(qkNorm.weight.dtype) } : {}) } }),
    params: [
      ['u32', a.numTokens], ['u32', a.numHeads], ['u32', a.numKvHeads], ['u32', a.headDim], ['u32', a.valueDim], ['u32', a.pos0], ['f32', a.scale], ['u32', a.window ?? 0],
      ['u32', a.rope?.rotaryDim ?? 0], ['f32', qkNorm?.eps ?? 0], ['u32', qkNorm?.kOffset ?? 0], ['f32', qkNorm?.clip ?? 0],
    ],
    buffers: tiled ? [a.q, a.kCache, a.vCache, a.out] : [a.q, a.kCache, a.vCache, partials ?? a.out, ...ropeBuffers, normBuffer],
    grid: [grid[0], grid[1], splits],
  });
  if (partials) {
    await dispatch(ctx, enc, {
      shader: 'attention_combine',
      params: [['u32', rows], ['u32', splits], ['u32', a.valueDim]],
      buffers: [partials, a.out],
      grid: dispatchGrid(rows, ctx.device.limits.maxComputeWorkgroupsPerDimension),
    });
  }
}

export type ElementwiseOp = 'clamp' | 'scale';
const OPS: Record<ElementwiseOp, number> = { clamp: 0, scale: 1 };

/** One element-wise step on a[offset … offset + count − 1] (see shaders/elementwise.wgsl). */
export function elementwise(ctx: GpuContext, enc: Encoder, a: { op: ElementwiseOp; a: GPUBuffer; count: number; scale?: number; offset?: number }) {
  const blocks = groups(a.count);
  const x = Math.min(blocks, 65535);
  return dispatch(ctx, enc, {
    shader: 'elementwise',
    constants: { OP: OPS[a.op] },
    params: [['u32', a.count], ['f32', a.scale ?? 1], ['u32', a.offset ?? 0]],
    buffers: [a.a],
    grid: [x, Math.ceil(blocks / x)],
  });
}

/** Columns of a logits row that one workgroup of argmax.wgsl scans (SLICE_WIDTH there). */
const ARGMAX_SLICE_WIDTH = 4096;

/**
 * ids[r] = argmax over row rowOffset + r of logits (ties → the lower id): the best of each 4,096-column
 * slice, then the best of the slices, so that a vocabulary row is read by many workgroups at once.
 */
export async function argmax(ctx: GpuContext, enc: Encoder, a: { logits: GPUBuffer; ids: GPUBuffer; numRows: number; width: number; rowOffset?: number }) {
  const slices = Math.ceil(a.width / ARGMAX_SLICE_WIDTH);
  const best = allocate(ctx, enc, a.numRows * slices * 8, 'argmax best of slices [R,S]');
  await dispatch(ctx, enc, {
    shader: 'argmax',
    params: [['u32', a.numRows], ['u32', a.width], ['u32', a.rowOffset ?? 0], ['u32', slices]],
    buffers: [a.logits, best],
    grid: [slices, a.numRows],
  });
  await dispatch(ctx, enc, {
    shader: 'argmax_slices',
    params: [['u32', a.numRows], ['u32', slices]],
    buffers: [best, a.ids],
    grid: [a.numRows],
  });
}

export interface SamplingSettings {
  temperature: number; // > 0
  topK: number; // 0 = off
  topP: number; // 1 = off
}

/** Draw one id from a logits row with the host's uniform number u (seeded per step). */
export function sample(ctx: GpuContext, enc: Encoder, a: { logits: GPUBuffer; id: GPUBuffer; width: number; rowOffset: number; settings: SamplingSettings; u: number }) {
  const { temperature, topK, topP } = a.settings;
  if (!(temperature > 0)) throw new RangeError(`temperature must be > 0 (use greedy decoding for 0), got ${temperature}`);
  return dispatch(ctx, enc, {
    shader: 'sample',
    params: [['u32', a.width], ['u32', a.rowOffset], ['u32', topK], ['f32', temperature], ['f32', topP], ['f32', a.u]],
    buffers: [a.logits, a.id],
    grid: [1],
  });
}
