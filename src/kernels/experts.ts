// Host side of the expert FFN: gate/up + SwiGLU for every (token, slot) pair, then down + weighted
// combine. Expert ids and weights stay on the GPU; nothing is read back between router and experts.

import { allocateShared, type Encoder } from '../gpu/recorder.ts';
import { dispatch, type ParamField } from '../gpu/dispatch.ts';
import type { Binding } from '../gpu/buffers.ts';
import type { GpuContext } from '../gpu/context.ts';
import { alignedRows, tileVectorLoads, weightDtypeConstant, type WeightRef } from './weightRef.ts';
import { SOFTMAX_TOPK_MAX_K } from './softmaxTopK.ts';

/** An expert bank: E experts' SwiGLU weights packed as two tensors. */
export interface ExpertBank {
  gateUp: WeightRef; // [E, 2I, H], or [E, H, 2I] when transposed
  down: WeightRef; // [E, H, I], or [E, I, H] when transposed
  gateUpTransposed: boolean;
  downTransposed: boolean;
  numExperts: number;
  width: number; // I
}

const WG = 64;

/** Grid of one workgroup per output or output block (x) and row (y, spilling into z): the decode kernels. */
function rowGrid(outputs: number, rows: number): [number, number, number] {
  return [outputs, Math.min(rows, 65535), Math.ceil(rows / 65535)];
}

/** Grid of WG outputs per workgroup (x) and rows (y, spilling into z): the combine kernel. */
function pairGrid(width: number, rows: number): [number, number, number] {
  return [Math.ceil(width / WG), Math.min(rows, 65535), Math.ceil(rows / 65535)];
}

/** What both expert FFN paths take: the tokens, their chosen experts and weights, where to write. */
export interface ExpertFfnArgs {
  bank: ExpertBank;
  x: GPUBuffer; // [T, H] f32
  expertIds: Binding; // [T, k] u32
  weights: Binding; // [T, k] f32
  out: GPUBuffer; // [T, H] f32
  numTokens: number;
  topK: number;
  hiddenSize: number;
  /** Add to `out` (shared experts after routed ones) instead of overwriting it. */
  accumulate: boolean;
  /** Combine with sigmoid(weights) (a shared expert's gate logits) instead of the weights. */
  sigmoidWeights?: boolean;
}

const ROWS = 8; // output rows per workgroup of the *_rows kernels

/** A shared expert that runs in the routed experts' dispatches (expertFfn): every token, one weight each. */
export interface FusedSharedExpert {
  bank: ExpertBank; // one expert, width Is
  weights: Binding; // [T] f32: its combine weight per token, or the gate logit with `sigmoid`
  sigmoid: boolean;
}

/**
 * Whether expertFfn can run `shared` in the routed experts' two dispatches: both banks stored row-wise on
 * 16-byte boundaries (the *_rows kernels) in one dtype per projection.
 */
export function sharedFusable(routed: ExpertBank, shared: ExpertBank, hiddenSize: number): boolean {
  const rows = (b: ExpertBank) => !b.gateUpTransposed && !b.downTransposed && alignedRows(hiddenSize, b.gateUp) && alignedRows(b.width, b.down);
  return shared.numExperts === 1 && rows(routed) && rows(shared) && routed.gateUp.dtype === shared.gateUp.dtype && routed.down.dtype === shared.down.dtype;
}

/** Router logits for expertFfn to choose the experts from itself (softmax routing; see chooseFusable). */
export interface FusedChoice {
  logits: Binding; // [T, E] f32 router logits (written, with `route`)
  numExperts: number; // E
  renormalize: boolean; // divide the k weights by their sum
  /** The router runs inside the gate/up dispatch too (see routeFusable): x is then the residual stream. */
  route?: RouterOnRead | undefined;
}

/**
 * The block norm before the router, for expert_gate_up_rows to run on read (ROUTE), with the router
 * itself (ROUTE 1) or its logits before the norm's scale, from the o_proj dispatch (ROUTE 2; see
 * shaders/router_fold.wgsl).
 */
export type RouterOnRead = {
  normWeight: WeightRef; // [H] RMSNorm weight
  eps: number;
} & ({ router: WeightRef /* [E, H] */ } | { rawLogits: GPUBuffer /* [E] f32, E rounded up to a multiple of 4 */ });

const GATE_UP_ROWS_THREADS = 256; // expert_gate_up_rows' workgroup size: chooseByLogit ranks one expert per thread
/** expert_gate_up_rows' workgroup memory besides ROUTE 1's normed row: partial, rowPartials, staged and routerPartials (f32 per thread), chosen and chosenProbs, firstInv. */
const GATE_UP_ROWS_WORKGROUP_BYTES = 4 * GATE_UP_ROWS_THREADS * 4 + 2 * SOFTMAX_TOPK_MAX_K * 4 + 4;

/**
 * Whether expertFfn can choose the experts itself (expert_gate_up_rows with CHOOSE): the gate/up bank
 * stored row-wise on 16-byte boundaries, E ≤ 256 (one expert per thread of the workgroup), and k no
 * more than choose_experts' MAX_K (softmax_topk's limit too).
 */
export function chooseFusable(bank: ExpertBank, hiddenSize: number, topK: number): boolean {
  return !bank.gateUpTransposed && alignedRows(hiddenSize, bank.gateUp) && bank.numExperts <= GATE_UP_ROWS_THREADS && topK <= SOFTMAX_TOPK_MAX_K;
}

/**
 * How many bytes of router weights the gate/up workgroups of one decode step may read between them when
 * each computes the router itself. 4 MiB is ~1 µs of an H100's L2 bandwidth, well under what the router's
 * own dispatch costs (≥ 5 µs of GPU time, ~11 µs of host time in Node): the demo model reads 384 KB (48
 * workgroups × 16 experts × 256 bf16). granite-3.0-1b-a400m would read 32 MiB (512 × 64 KB): measured
 * with this limit at 32 MiB on an H100, its GPU step grew 80 µs and its decode did not gain
 * (docs/performance.md, 2026-12-07); OLMoE-1B-7B 256 MiB.
 */
const ROUTE_REREAD_BYTES = 4 * 1024 * 1024;

/**
 * Whether expertFfn can run the router itself too (`choose.route`; expertFfn also refuses it beside a
 * shared expert): one token, the bank chooseFusable, the norm weight in the bank's dtype, and with the
 * router itself (ROUTE 1) its weights in that dtype with rows on 16-byte boundaries, the normed row in
 * workgroup memory beside the kernel's own, and the router weights all its workgroups read within
 * ROUTE_REREAD_BYTES.
 */
export function routeFusable(ctx: GpuContext, bank: ExpertBank, route: RouterOnRead, a: { numTokens: number; topK: number; hiddenSize: number }): boolean {
  const H = a.hiddenSize;
  const dtype = bank.gateUp.dtype;
  if (!foldedRouteFusable(bank, route.normWeight, a)) return false;
  if (!('router' in route)) return true;
  const workgroups = a.topK * Math.ceil(bank.width / ROWS);
  const routerBytes = bank.numExperts * H * (dtype === 'F32' ? 4 : 2);
  return (
    H * 4 + GATE_UP_ROWS_WORKGROUP_BYTES <= ctx.device.limits.maxComputeWorkgroupStorageSize &&
    alignedRows(H, route.router) && route.router.dtype === dtype && workgroups * routerBytes <= ROUTE_REREAD_BYTES
  );
}

/**
 * Whether expertFfn can take the router's logits before the norm's scale (ROUTE 2, the router folded into
 * o_proj) and the norm on read: one token, the bank chooseFusable, the norm weight in the bank's dtype.
 */
export function foldedRouteFusable(bank: ExpertBank, normWeight: WeightRef, a: { numTokens: number; topK: number; hiddenSize: number }): boolean {
  return a.numTokens === 1 && chooseFusable(bank, a.hiddenSize, a.topK) && normWeight.dtype === bank.gateUp.dtype;
}

/**
 * Parts of a down row that expert_down_combine_rows.wgsl gives a group of threads each (SLOTS_APART): the
 * k chosen experts' rows and, with a shared expert of width Is = m · I, its row in m slices of I; null
 * where they do not divide the workgroup's ROWS groups (the parts then run one after another). Qwen1.5-MoE
 * (k 4, I 1,408, Is 5,632): 8 parts.
 */
export function downParts(topK: number, width: number, sharedWidth: number): number | null {
  if (sharedWidth % width !== 0) return null;
  const parts = topK + sharedWidth / width;
  return ROWS % parts === 0 ? parts : null;
}

/** Floats of hidden scratch expertFfn needs: [T·k, I], then [T, Is] for a fused shared expert. */
export function expertHiddenFloats(bank: ExpertBank, numTokens: number, topK: number, shared: ExpertBank | null): number {
  return numTokens * (topK * bank.width + (shared?.width ?? 0));
}

/**
 * The decode path: gate/up + SwiGLU per (token, slot) pair straight from the chosen experts' rows, then
 * down + weighted combine per token; with `shared` (see sharedFusable) the shared expert joins both
 * dispatches (two dispatches fewer per layer). With `choose` (see chooseFusable) the gate/up dispatch
 * also runs the router's softmax and top-k, writing expertIds and weights (one dispatch fewer); with
 * `choose.route` (see routeFusable) the router and its norm as well, x being the residual stream (one more).
 */
export async function expertFfn(ctx: GpuContext, enc: Encoder, a: ExpertFfnArgs & { hidden: GPUBuffer /* expertHiddenFloats f32 scratch */; shared?: FusedSharedExpert; choose?: FusedChoice }): Promise<void> {
  const { bank, shared, choose } = a;
  if (shared && !sharedFusable(bank, shared.bank, a.hiddenSize)) throw new RangeError('expertFfn: this shared expert cannot join the routed dispatches (see sharedFusable)');
  if (choose && (!chooseFusable(bank, a.hiddenSize, a.topK) || choose.numExperts !== bank.numExperts)) {
    throw new RangeError(`expertFfn: cannot choose ${a.topK} of ${choose.numExperts} experts inside gate/up for this bank (see chooseFusable)`);
  }
  const route = choose?.route;
  if (route && (shared || !routeFusable(ctx, bank, route, a))) throw new RangeError('expertFfn: cannot run this router inside gate/up (see routeFusable)');
  const pairs = a.numTokens * a.topK;
  const H = a.hiddenSize;
  const I = bank.width;
  const Is = shared?.bank.width ?? 0;
  const SHARED = shared ? 1 : 0;
  const gateUpDtype = { WEIGHT_DTYPE: weightDtypeConstant(bank.gateUp.dtype) };
  if (!bank.gateUpTransposed && alignedRows(H, bank.gateUp)) {
    // workgroups: the routed pairs' row blocks, then the shared expert's for every token
    const blocks = pairs * Math.ceil(I / ROWS) + (shared ? a.numTokens * Math.ceil(Is / ROWS) : 0);
    const x = Math.min(blocks, 65535);
    await dispatch(ctx, enc, {
      shader: 'expert_gate_up_rows',
      constants: { ...gateUpDtype, SHARED, CHOOSE: choose ? 1 : 0, ...(route ? ('router' in route ? { ROUTE: 1, NORMED_VEC4S: H / 4 } : { ROUTE: 2 }) : {}) },
      params: [['u32', pairs], ['u32', a.topK], ['u32', H], ['u32', I], ['u32', Is], ['u32', choose?.numExperts ?? 0], ['u32', choose?.renormalize ? 1 : 0], ['f32', route?.eps ?? 0]],
      buffers: [
        a.x, a.expertIds, bank.gateUp.buffer, a.hidden, shared?.bank.gateUp.buffer ?? (route ? ('router' in route ? route.router.buffer : route.rawLogits) : ctx.placeholder()),
        choose?.logits ?? ctx.placeholder(1), choose ? a.weights : ctx.placeholder(2), route?.normWeight.buffer ?? ctx.placeholder(),
      ],
      grid: [x, Math.ceil(blocks / x)],
    });
  } else {
    await dispatch(ctx, enc, {
      shader: 'expert_gate_up',
      constants: gateUpDtype,
      params: [['u32', pairs], ['u32', a.topK], ['u32', H], ['u32', I], ['u32', bank.gateUpTransposed ? 1 : 0]],
      buffers: [a.x, a.expertIds, bank.gateUp.buffer, a.hidden],
      grid: rowGrid(I, pairs),
    });
  }
  const downDtype = { WEIGHT_DTYPE: weightDtypeConstant(bank.down.dtype) };
  if (!bank.downTransposed && alignedRows(I, bank.down)) {
    // each part of a row (a chosen expert's row, a slice of the shared expert's) in its own group of
    // threads where the row block holds whole rows
    const parts = downParts(a.topK, I, shared ? Is : 0);
    const slotsApart = parts !== null;
    await dispatch(ctx, enc, {
      shader: 'expert_down_combine_rows',
      constants: { ...downDtype, SHARED, SLOTS_APART: slotsApart ? 1 : 0 },
      params: [
        ['u32', a.numTokens], ['u32', a.topK], ['u32', H], ['u32', I], ['u32', a.accumulate ? 1 : 0], ['u32', a.sigmoidWeights ? 1 : 0],
        ['u32', Is], ['u32', shared?.sigmoid ? 1 : 0],
      ],
      buffers: [a.hidden, a.expertIds, a.weights, bank.down.buffer, a.out, shared?.bank.down.buffer ?? ctx.placeholder(1), shared?.weights ?? ctx.placeholder(2)],
      grid: rowGrid(Math.ceil(H / (parts ? ROWS / parts : ROWS)), a.numTokens),
    });
  } else {
    await dispatch(ctx, enc, {
      shader: 'expert_down_combine',
      constants: downDtype,
      params: [['u32', a.numTokens], ['u32', a.topK], ['u32', H], ['u32', I], ['u32', bank.downTransposed ? 1 : 0], ['u32', a.accumulate ? 1 : 0], ['u32', a.sigmoidWeights ? 1 : 0]],
      buffers: [a.hidden, a.expertIds, a.weights, bank.down.buffer, a.out],
      grid: rowGrid(H, a.numTokens),
    });
  }
}

const SMALL_TILE_PAIRS = 32; // pairs per workgroup of expert_*_grouped.wgsl (tile_multiply's A_ROWS)
const BIG_TILE_PAIRS = 64; // pairs per workgroup of expert_*_grouped_64.wgsl (tile_multiply_64's A_ROWS)
const GROUPED_OUTPUTS = 128; // outputs per workgroup of expert_down_grouped*.wgsl (B_ROWS)
const GROUPED_UNITS = 64; // intermediate units per workgroup of expert_gate_up_grouped*.wgsl (B_ROWS / 2)
/** Scratch buffers for a step's intermediate results; the caller frees them after the step. */
type Alloc = (bytes: number, label: string) => GPUBuffer;

/** Pairs grouped by expert on the GPU: what the grouped multiplies read. */
interface PairGroups {
  offsets: GPUBuffer; // first pair of each expert in `sorted` [E + 1], first tiles of each size [E + 1, E + 1], expert of each tile (expert_tiles.wgsl)
  sorted: GPUBuffer; // [P] pair indices (t·k + slot) by expert
  numExperts: number;
  /** Grid rows of each dispatch: the 64-pair tiles there can be, and the 32-pair ones. */
  bigTiles: number;
  smallTiles: number;
}

/** count → scan → scatter of the T·k (token, slot) pairs by expert id; then the tiles (expert_tiles.wgsl). */
async function groupPairs(ctx: GpuContext, enc: Encoder, a: { expertIds: Binding; pairs: number; numExperts: number; alloc: Alloc }): Promise<PairGroups> {
  const { pairs: P, numExperts: E } = a;
  const counts = a.alloc(E * 4, 'pairs per expert [E]');
  // an expert's 64-pair tiles cover at most its pairs + 31 (a remainder of 33–63 takes one); then at most
  // one 32-pair tile
  const bigTiles = Math.ceil(P / BIG_TILE_PAIRS) + Math.min(E, P);
  const smallTiles = Math.min(E, P);
  const offsets = a.alloc((3 * (E + 1) + bigTiles + smallTiles) * 4, 'expert offsets [E+1], first tiles [E+1, E+1], tile experts');
  const sorted = a.alloc(P * 4, 'pairs by expert [P]');
  enc.clearBuffer(counts);
  const pairBlocks = Math.ceil(P / WG);
  const pairGridX = Math.min(pairBlocks, 65535);
  for (const stage of [0, 1, 2]) {
    await dispatch(ctx, enc, {
      shader: 'expert_group',
      constants: { STAGE: stage },
      params: [['u32', P], ['u32', E], ['u32', bigTiles]],
      buffers: [a.expertIds, counts, offsets, sorted],
      grid: stage === 1 ? [1] : [pairGridX, Math.ceil(pairBlocks / pairGridX)],
    });
  }
  return { offsets, sorted, numExperts: E, bigTiles, smallTiles };
}

const GROUPED_STEP = 16; // inputs per staged step (tile_staging's STEP): a split's chunks are whole steps
const GROUPED_SPLIT_MAX = 8; // expert_split.wgsl's MAX_SPLITS
const GROUPED_SPLITS = 4; // H100, OLMoE's and Qwen's 32-pair dispatches without phase 2 (a timing test): 1.03–1.10× faster at 4 chunks than at 2, no faster at 8
const GROUPED_SPLIT_CHUNK = 256; // inputs per chunk, at least
const GROUPED_SPLIT_BYTES = 128 * 2 ** 20; // partial sums a split may hold

/**
 * How a grouped projection's 32-pair tiles split its K inputs (expert_split.wgsl): into GROUPED_SPLITS
 * chunks of at least GROUPED_SPLIT_CHUNK inputs, fewer where `rows` partial rows of `width` sums each
 * would pass GROUPED_SPLIT_BYTES; one chunk (no split) where that leaves fewer than 2.
 */
function groupedSplit(inputs: number, rows: number, width: number): { splits: number; kChunk: number } {
  const bySize = Math.floor(GROUPED_SPLIT_BYTES / (rows * width * 4));
  const wanted = Math.min(GROUPED_SPLITS, GROUPED_SPLIT_MAX, Math.floor(inputs / GROUPED_SPLIT_CHUNK), bySize);
  if (wanted < 2) return { splits: 1, kChunk: inputs };
  const kChunk = Math.ceil(inputs / wanted / GROUPED_STEP) * GROUPED_STEP;
  return { splits: Math.ceil(inputs / kChunk), kChunk };
}

/**
 * One grouped projection: `shader` on 64-pair tiles, then `shader` on 32-pair tiles, split over the
 * inputs where groupedSplit says (phase 1 into partial sums, phase 2 adds them).
 * `params` open each shader's Params; `width` is the partial sums per pair (gate/up: 2I, down: H),
 * `outputs` the outputs per pair that phase 2 finishes (I, H), `columns` the tiles' output blocks.
 */
async function groupedProjection(
  ctx: GpuContext,
  enc: Encoder,
  a: { shader: string; constants: Record<string, number>; params: ParamField[]; buffers: Binding[]; groups: PairGroups; inputs: number; width: number; outputs: number; columns: number },
): Promise<void> {
  const { groups } = a;
  const run = (shader: string, phase: number, split: { splits: number; kChunk: number }, partialRows: number, partials: GPUBuffer, grid: [number, number, number]) =>
    dispatch(ctx, enc, {
      shader,
      constants: { ...a.constants, SPLIT_PHASE: phase },
      params: [...a.params, ['u32', groups.bigTiles], ['u32', split.kChunk], ['u32', split.splits], ['u32', partialRows]],
      buffers: [...a.buffers, partials],
      grid,
    });
  const whole = { splits: 1, kChunk: a.inputs };
  if (groups.bigTiles > 0) await run(`${a.shader}_64`, 0, whole, 0, ctx.placeholder(1), [a.columns, groups.bigTiles, 1]);
  const rows = groups.smallTiles * SMALL_TILE_PAIRS;
  const split = groupedSplit(a.inputs, rows, a.width);
  if (split.splits === 1) {
    await run(a.shader, 0, whole, 0, ctx.placeholder(1), [a.columns, groups.smallTiles, 1]);
    return;
  }
  // one buffer for every layer's partial sums (they live from phase 1 to phase 2)
  const partials = allocateShared(ctx, enc, split.splits * rows * a.width * 4, 'grouped partial sums [S, rows, N]');
  await run(a.shader, 1, split, rows, partials, [a.columns, groups.smallTiles, split.splits]);
  await run(a.shader, 2, split, rows, partials, [Math.ceil(a.outputs / 128), groups.smallTiles, 1]);
}

/** hidden[p] = silu(W_gate x_t) · W_up x_t for every grouped pair (gateOnly: silu(W_gate x_t))   [P, I] */
function gateUpGrouped(ctx: GpuContext, enc: Encoder, a: { bank: ExpertBank; x: GPUBuffer; groups: PairGroups; topK: number; hiddenSize: number; out: GPUBuffer; gateOnly?: boolean }) {
  const { bank } = a;
  return groupedProjection(ctx, enc, {
    shader: 'expert_gate_up_grouped',
    constants: { WEIGHT_DTYPE: weightDtypeConstant(bank.gateUp.dtype), GATE_ONLY: a.gateOnly ? 1 : 0, VECTOR_LOADS: tileVectorLoads(a.hiddenSize, bank.gateUpTransposed) },
    params: [['u32', a.hiddenSize], ['u32', bank.width], ['u32', a.topK], ['u32', bank.gateUpTransposed ? 1 : 0], ['u32', a.groups.numExperts]],
    buffers: [a.x, a.groups.offsets, a.groups.sorted, bank.gateUp.buffer, a.out],
    groups: a.groups, inputs: a.hiddenSize, width: 2 * bank.width, outputs: bank.width, columns: Math.ceil(bank.width / GROUPED_UNITS),
  });
}

/** y[p] = W_down hidden[p] for every grouped pair                                            [P, H] */
function downGrouped(ctx: GpuContext, enc: Encoder, a: { bank: ExpertBank; hidden: GPUBuffer; groups: PairGroups; hiddenSize: number; out: GPUBuffer }) {
  const { bank } = a;
  return groupedProjection(ctx, enc, {
    shader: 'expert_down_grouped',
    constants: { WEIGHT_DTYPE: weightDtypeConstant(bank.down.dtype), VECTOR_LOADS: tileVectorLoads(bank.width, bank.downTransposed) },
    params: [['u32', a.hiddenSize], ['u32', bank.width], ['u32', bank.downTransposed ? 1 : 0], ['u32', a.groups.numExperts]],
    buffers: [a.hidden, a.groups.offsets, a.groups.sorted, bank.down.buffer, a.out],
    groups: a.groups, inputs: bank.width, width: a.hiddenSize, outputs: a.hiddenSize, columns: Math.ceil(a.hiddenSize / GROUPED_OUTPUTS),
  });
}

/**
 * Prefill version: pairs grouped by expert on the GPU (count → scan → scatter), then grouped multiplies
 * per projection (64 or 32 pairs × 128 weight rows per workgroup, staged in workgroup memory: one dispatch
 * per tile size), then the weighted combine in slot order.
 * `alloc` provides scratch buffers the caller frees after the step.
 */
export async function expertFfnGrouped(
  ctx: GpuContext,
  enc: Encoder,
  a: ExpertFfnArgs & { alloc: Alloc },
): Promise<void> {
  const { bank, numTokens: T, topK: k, hiddenSize: H } = a;
  const P = T * k;
  const groups = await groupPairs(ctx, enc, { expertIds: a.expertIds, pairs: P, numExperts: bank.numExperts, alloc: a.alloc });
  const hidden = a.alloc(P * bank.width * 4, 'expert hidden [P,I]');
  await gateUpGrouped(ctx, enc, { bank, x: a.x, groups, topK: k, hiddenSize: H, out: hidden });
  const y = a.alloc(P * H * 4, 'expert outputs [P,H]');
  await downGrouped(ctx, enc, { bank, hidden, groups, hiddenSize: H, out: y });
  await dispatch(ctx, enc, {
    shader: 'expert_combine',
    params: [['u32', T], ['u32', k], ['u32', H], ['u32', a.accumulate ? 1 : 0], ['u32', a.sigmoidWeights ? 1 : 0]],
    buffers: [y, a.weights, a.out],
    grid: pairGrid(H, T),
  });
}

/**
 * The expert probe (dynamic analyses): every expert on every token of x, without touching the model's
 * output. `allExperts` [T, E] u32 holds 0 … E−1 in each row, so pair p = t·E + e.
 *   gram[t, i, j] = expert_i(x_t) · expert_j(x_t)                                     [T, E, E]
 *   states[t, e]  = silu(W_gate[e] x_t), when asked                                    [T, E, I]
 */
export async function probeExperts(
  ctx: GpuContext,
  enc: Encoder,
  a: { bank: ExpertBank; x: GPUBuffer; allExperts: GPUBuffer; numTokens: number; hiddenSize: number; gram: GPUBuffer; states: GPUBuffer | null; alloc: (bytes: number, label: string) => GPUBuffer },
): Promise<void> {
  const { bank, numTokens: T, hiddenSize: H } = a;
  const E = bank.numExperts;
  const P = T * E;
  const groups = await groupPairs(ctx, enc, { expertIds: a.allExperts, pairs: P, numExperts: E, alloc: a.alloc });
  const pairArgs = { bank, x: a.x, groups, topK: E, hiddenSize: H };
  const hidden = a.alloc(P * bank.width * 4, 'probe hidden [T,E,I]');
  await gateUpGrouped(ctx, enc, { ...pairArgs, out: hidden });
  if (a.states) await gateUpGrouped(ctx, enc, { ...pairArgs, out: a.states, gateOnly: true });
  const y = a.alloc(P * H * 4, 'probe outputs [T,E,H]');
  await downGrouped(ctx, enc, { bank, hidden, groups, hiddenSize: H, out: y });
  await dispatch(ctx, enc, { shader: 'expert_gram', params: [['u32', E], ['u32', H]], buffers: [y, a.gram], grid: [E, T] });
}
