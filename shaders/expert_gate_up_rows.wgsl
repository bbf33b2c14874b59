// expert_gate_up.wgsl for banks stored [E, 2I, H] with rows on 16-byte boundaries (H a multiple of 8 for
// bf16/f16, of 4 for f32): ROWS rows i per workgroup for one (token, slot) pair, LANES threads per row,
// each streaming the gate row i and the up row I + i of the chosen expert 16 bytes per load.
//   hidden[p, i] = silu(W_gate[e] x_t)[i] · (W_up[e] x_t)[i],   e = expertIds[p], t = p / k
// With SHARED = 1 the same dispatch also runs a shared expert (Qwen2-MoE, DeepSeek) on every token: its
// bank [1, 2Is, H] in sharedOrRouter, its rows after the routed pairs' in hiddenOut:
//   hidden[T·k·I + t·Is + i] = silu(Ws_gate x_t)[i] · (Ws_up x_t)[i]
// Workgroups are numbered along x (spilling into y): the routed pairs' row blocks, then the shared ones.
// With CHOOSE (softmax routing, E ≤ 256) the router's top-k runs here too, instead of in a softmax_topk
// dispatch of its own: every routed workgroup ranks its token's router logits (chooseByLogit, see
// choose_experts) and takes the expert of its slot; the first workgroup of each token also computes the
// softmax and writes the token's expert ids and combine weights for the down projection and the trace:
//   expertIds[t·k + r], weights[t·k + r] = rank r of softmax(logits[t]), its weight (renormalised or not)
// (Ranking with the full softmax in every workgroup, as softmax_topk does, made this kernel 12 µs per
// layer slower on an H100; ranking logits, 4 µs.)
// With ROUTE (CHOOSE, one token, no shared expert) the router itself runs here too, so a decode layer's
// MoE block is two dispatches: x is the residual stream, and every workgroup takes the block's norm on
// read and computes the router logits before its rows,
//   h = RMSNorm(x) · normWeight   (norm_on_read),   logits = W_router h   [E],
// reading W_router from cache (E · H weights per workgroup: the host allows it only where that is small,
// see routeFusable); the token's first workgroup also writes the logits, for the trace.
// With ROUTE = 2 the router ran in the o_proj dispatch before this one (matvec_rows' ROUTER_FOLD), which
// wrote the logits before the norm's scale, raw = logits / inv (inv = 1 / rms of x > 0), to sharedOrRouter:
// every workgroup ranks them (the same order) and streams its rows at once against x · normWeight, the
// norm's scale coming after the row sums, where each row's lanes have read all of x:
//   W (RMSNorm(x) · normWeight) = inv · W (x · normWeight),   inv = 1 / sqrt(sum of the lanes' x² / H + eps)
// (Taking the norm into workgroup memory first, as ROUTE 1 does, made OLMoE's gate/up 12 µs per layer
// slower on an H100: its reads and reductions came before any weight load.) The token's first workgroup
// then scales the logits by inv for the softmax and writes them, for the trace, with the ids and weights.

#include "weights"
#include "row_reduce"

struct Params {
  numPairs: u32,     // T · k
  topK: u32,         // k: pairs per token
  hidden: u32,       // H
  width: u32,        // I, expert intermediate size
  sharedWidth: u32,  // Is (SHARED = 1)
  numExperts: u32,   // E (CHOOSE)
  renormalize: u32,  // 1: the k weights divided by their sum (CHOOSE)
  eps: f32,          // the norm's epsilon (ROUTE 1, 2)
}

override SHARED: u32 = 0u;
override CHOOSE: bool = false;
override ROUTE: u32 = 0u;  // 1: the router runs here; 2: its raw logits come from o_proj (see top)

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<vec4<f32>>;       // [T, H/4]
@group(0) @binding(2) var<storage, read_write> expertIds: array<u32>; // [T · k] u32 (CHOOSE: written)
@group(0) @binding(3) var<storage, read> gateUp: array<vec4<u32>>;  // [E, 2I, H] packed
@group(0) @binding(4) var<storage, read_write> hiddenOut: array<f32>; // [T · k, I] f32, then [T, Is] (SHARED)
// [1, 2Is, H] packed (SHARED), the router weight [E, H] packed (ROUTE 1) or the raw logits [E] f32 (ROUTE 2;
// no shared expert with either): one binding, so that the kernel keeps to 8 storage buffers (WebGPU's default limit)
@group(0) @binding(5) var<storage, read> sharedOrRouter: array<vec4<u32>>;
@group(0) @binding(6) var<storage, read_write> logits: array<f32>;  // [T, E] router logits (CHOOSE; ROUTE 1, 2: written)
@group(0) @binding(7) var<storage, read_write> weights: array<f32>; // [T · k] combine weights, written (CHOOSE)
@group(0) @binding(8) var<storage, read> normWeight: array<u32>;   // [H] packed norm weight (ROUTE 1, 2)

const WORKGROUP_SIZE: u32 = 256u;
#include "workgroup_reduce"
#include "choose_experts"
#include "norm_on_read"

/** ROUTE 1: the row the norm reads, the one token's residual stream. */
fn normSource(i: u32) -> vec4<f32> { return x[i]; }

/** x's vec4 i, or with ROUTE 1 the normed row's (one token). */
fn xVec(i: u32) -> vec4<f32> {
  if (ROUTE == 1u) { return normed[i]; }
  return x[i];
}

/**
 * The token's x values weight word c covers (its row from vec4 xBase): two vec4s, or for f32 weights one
 * (twice). ROUTE 2: x · normWeight, and `squares` the sum of those x² (the norm's, before its weight).
 */
struct XWord {
  lo: vec4<f32>,
  hi: vec4<f32>,
  squares: f32,
}
fn xWord(xBase: u32, c: u32) -> XWord {
  let xPerWord = valuesPerWord() / 4u;
  let q = xPerWord * c; // the word's first vec4 in the row
  let lo = xVec(xBase + q);
  let hi = xVec(xBase + q + xPerWord - 1u);
  if (ROUTE != 2u) { return XWord(lo, hi, 0.0); }
  let squares = select(dot(lo, lo), dot(lo, lo) + dot(hi, hi), xPerWord == 2u);
  return XWord(lo * normWeightQuad(q), hi * normWeightQuad(q + xPerWord - 1u), squares);
}

var<workgroup> firstInv: f32; // ROUTE 2: the norm's scale, from the first workgroup's row 0

var<workgroup> routerPartials: array<f32, WORKGROUP_SIZE>;

/**
 * ROUTE: staged[e] = h · W_router[e] for the E experts (see chooseByLogit), h staged by stageNormed. Each
 * expert takes WORKGROUP_SIZE / (E rounded up to a power of two) threads, which stream its row 16 bytes
 * per load and meet in routerPartials.
 */
fn stageRouterLogits(lid: u32, E: u32) {
  let lanes = WORKGROUP_SIZE >> (32u - countLeadingZeros(max(E, 1u) - 1u));
  let e = lid / lanes;
  let words = params.hidden / valuesPerWord();
  var sum = 0.0;
  if (e < E) {
    for (var c = lid % lanes; c < words; c += lanes) {
      let xw = xWord(0u, c);
      sum += dotWord(sharedOrRouter[e * words + c], xw.lo, xw.hi);
    }
  }
  routerPartials[lid] = sum;
  workgroupBarrier();
  if (lid < E) {
    var logit = 0.0;
    for (var l = 0u; l < lanes; l++) { logit += routerPartials[lid * lanes + l]; }
    staged[lid] = logit;
  }
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) groups: vec3u, @builtin(local_invocation_index) lid: u32) {
  let lane = lid % LANES;
  let blocks = (params.width + ROWS - 1u) / ROWS;  // row blocks per routed pair
  let w = wid.x + wid.y * groups.x;
  let routed = w < params.numPairs * blocks;
  var p: u32;         // routed pair, or token of the shared expert
  var i: u32;         // row
  var width: u32;
  var exists: bool;
  if (routed) {
    p = w / blocks;
    i = (w % blocks) * ROWS + lid / LANES;
    width = params.width;
    exists = true;
  } else {
    let sharedBlocks = (params.sharedWidth + ROWS - 1u) / ROWS;
    let v = w - params.numPairs * blocks;
    p = v / max(sharedBlocks, 1u);
    i = (v % max(sharedBlocks, 1u)) * ROWS + lid / LANES;
    width = params.sharedWidth;
    exists = SHARED == 1u && p < params.numPairs / params.topK;
  }
  var expert = 0u;
  if (CHOOSE && routed) { // uniform: w is the workgroup's
    let t = p / params.topK;
    let slot = p % params.topK;
    let k = min(params.topK, MAX_K);
    let row = t * params.numExperts;
    if (ROUTE == 1u) {
      stageNormed(lid, params.hidden, params.eps);
      stageRouterLogits(lid, params.numExperts);
      rankStaged(params.numExperts, k, lid);
    } else if (ROUTE == 2u) {
      if (lid < params.numExperts) { staged[lid] = bitcast<f32>(sharedOrRouter[lid / 4u][lid % 4u]); }
      rankStaged(params.numExperts, k, lid);
    } else {
      chooseByLogit(row, params.numExperts, k, lid);
    }
    if (ROUTE != 2u && firstOfToken(w, blocks)) { writeChoice(t, k, lid); } // ROUTE 2: after the rows, with inv
    // read here, after the first workgroup's reductions: read before them, it stayed live across their
    // barriers and this kernel ran 120 µs per OLMoE step slower on an H100 (likely more registers per
    // thread: OLMoE's 1,024 workgroups fit 132 SMs in one wave only at 8 per SM)
    expert = chosen[slot];
  } else if (routed) {
    expert = expertIds[p];
  }
  let valid = exists && i < width;
  let words = params.hidden / valuesPerWord();  // 16-byte words per row
  var g = 0.0;
  var u = 0.0;
  var squares = 0.0; // ROUTE 2
  if (valid) {
    var xBase: u32;
    var gateRow: u32;
    if (routed) {
      xBase = (p / params.topK) * (params.hidden / 4u);
      gateRow = (expert * 2u * width + i) * words;
    } else {
      xBase = p * (params.hidden / 4u);
      gateRow = i * words;
    }
    let upRow = gateRow + width * words;
    var c = lane;
    // two words of each row per lane in flight (four loads), then the remainder
    for (; c + LANES < words; c += 2u * LANES) {
      let g0 = gateUpWord(routed, gateRow + c);
      let u0 = gateUpWord(routed, upRow + c);
      let g1 = gateUpWord(routed, gateRow + c + LANES);
      let u1 = gateUpWord(routed, upRow + c + LANES);
      let x0 = xWord(xBase, c);
      let x1 = xWord(xBase, c + LANES);
      g += dotWord(g0, x0.lo, x0.hi) + dotWord(g1, x1.lo, x1.hi);
      u += dotWord(u0, x0.lo, x0.hi) + dotWord(u1, x1.lo, x1.hi);
      squares += x0.squares + x1.squares;
    }
    for (; c < words; c += LANES) {
      let xw = xWord(xBase, c);
      g += dotWord(gateUpWord(routed, gateRow + c), xw.lo, xw.hi);
      u += dotWord(gateUpWord(routed, upRow + c), xw.lo, xw.hi);
      squares += xw.squares;
    }
  }
  var gate = rowSum(lid, g);
  var up = rowSum(lid, u);
  if (ROUTE == 2u) {
    let inv = inverseSqrt(rowSum(lid, squares) / f32(params.hidden) + params.eps);
    gate *= inv;
    up *= inv;
    if (routed && firstOfToken(w, blocks)) { // uniform: w is the workgroup's
      // the softmax's logits, scaled by row 0's inv (every row of this workgroup read x unless width < ROWS)
      if (lid == 0u) { firstInv = inv; }
      workgroupBarrier();
      if (lid < params.numExperts) { staged[lid] *= firstInv; }
      workgroupBarrier();
      writeChoice(p / params.topK, min(params.topK, MAX_K), lid);
    }
  }
  if (valid && lane == 0u) {
    let o = select(params.numPairs * params.width + p * width + i, p * width + i, routed);
    hiddenOut[o] = gate / (1.0 + exp(-gate)) * up;
  }
}

/** Is routed workgroup w the first of its token's (slot 0, row block 0)? */
fn firstOfToken(w: u32, blocks: u32) -> bool {
  return w % blocks == 0u && (w / blocks) % params.topK == 0u;
}

/**
 * CHOOSE, the token's first workgroup: token t's expert ids and combine weights for the down projection and
 * the trace (and with ROUTE its logits), from the logits staged and ranked.
 */
fn writeChoice(t: u32, k: u32, lid: u32) {
  let row = t * params.numExperts;
  chosenProbabilities(params.numExperts, k, lid);
  if (ROUTE != 0u && lid < params.numExperts) { logits[row + lid] = staged[lid]; }
  if (lid < k) {
    expertIds[t * k + lid] = chosen[lid];
    weights[t * k + lid] = chosenWeight(lid, k, params.renormalize == 1u);
  }
}

/** Word `at` of the routed bank, or of the shared expert's. */
fn gateUpWord(routed: bool, at: u32) -> vec4<u32> {
  if (routed || SHARED == 0u) { return gateUp[at]; }
  return sharedOrRouter[at];
}
