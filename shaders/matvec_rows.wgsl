// Linear layers for a few tokens (decode), or for a few outputs over many tokens (a router in prefill), when
// every weight row starts on a 16-byte boundary (K a multiple of 8 for bf16/f16 weights, of 4 for f32):
//   y[t, offset + n] = x[t, :] · W[n, :] (+ b[n])      (y: see linear_output)
// ROWS output rows per workgroup, LANES threads per row. Each thread reads 16 bytes of weights at a time
// (8 bf16/f16 or 4 f32 values, unpacked in registers), neighbouring lanes neighbouring words, so a row is
// streamed in wide coalesced loads; the lanes' partial sums meet once per token (row_reduce).
// Workgroup z takes tokens 8z … 8z+7 (MAX_TOKENS), reading each weight once for all of them. (A router's
// 32–128 outputs fill one column of matmul.wgsl's 64 × 128 tiles, 8 workgroups for 512 tokens; here the
// same layer is 512.) matvec.wgsl serves rows that are not 16-byte aligned.
//
// One token (a decode step) can fold the block's RMSNorm and residual add into the layer, saving their
// dispatches:
//   NORM:       the layer reads x as the residual stream and multiplies
//                 h = RMSNorm(x + r · residualScale) · normWeight   (r: a branch not yet added, when hasPending)
//               which every workgroup computes into workgroup memory before its rows (the row is a few KB,
//               read from cache); with writeNormed, the first workgroup also writes h to y2 for the
//               layers after it.
//   accumulate: the output is a residual branch: y0[n] += residualScale · (x · W[n] (+ b[n]) + r[n]),
//               adding the pending branch r in the same write (each element read and written by one thread).
//   ROUTER_FOLD (with accumulate; a decode layer's o_proj): the next block's RMSNorm and router ride along
//               (router_fold.wgsl). The stream is not updated in place but written anew, from y2:
//                 y0[n] = y2[n] + residualScale · (x · W[n] + r[n])
//               and E more workgroups, one per expert e, write its logit before the norm's scale to y1:
//                 y1[e] = fold[e] · [y2 + residualScale · r ; residualScale · x]   (fold [E, H + K] f32 in
//               binding 7), reading the old stream, which the N rows' workgroups do not write.

#include "weights"
#include "row_reduce"
#include "linear_output"

@group(0) @binding(1) var<storage, read> x: array<vec4<f32>>;     // [T, K/4]
@group(0) @binding(2) var<storage, read> w: array<vec4<u32>>;     // [N, K] packed, 16 bytes per load
@group(0) @binding(3) var<storage, read> b: array<u32>;           // [N] packed (bound to w when unused)
@group(0) @binding(7) var<storage, read> normWeight: array<u32>;  // NORM: [K] packed norm weight; ROUTER_FOLD: [E, H + K] f32 fold
@group(0) @binding(8) var<storage, read> r: array<f32>;           // hasPending: [K] (NORM) or [N] (accumulate) f32

const MAX_TOKENS: u32 = 8u;

override NORM: bool = false;
override ROUTER_FOLD: bool = false;
const WORKGROUP_SIZE: u32 = 256u;
#include "workgroup_reduce"
#include "norm_on_read"

/** Token t's inputs 4c … 4c+3: x itself, or with NORM the normed row staged by normInput(). */
fn xVec(i: u32) -> vec4<f32> {
  if (NORM) { return normed[i]; }
  return x[i];
}

/** NORM: the row before the norm, x + r · residualScale (r: the branch not yet added, when hasPending). */
fn normSource(i: u32) -> vec4<f32> {
  var v = x[i];
  if (params.hasPending == 1u) { v += vec4<f32>(r[4u * i], r[4u * i + 1u], r[4u * i + 2u], r[4u * i + 3u]) * params.residualScale; }
  return v;
}

/** NORM: h = RMSNorm(x + r · residualScale) · normWeight into workgroup memory (and to y2 from workgroup 0). */
fn normInput(lid: u32, firstWorkgroup: bool) {
  stageNormed(lid, params.inputs, params.eps);
  if (firstWorkgroup && params.writeNormed == 1u) {
    for (var i = lid; i < params.inputs; i += WORKGROUP_SIZE) { y2[i] = normed[i / 4u][i % 4u]; }
  }
}

/** Token t's x against weight word c of a row (the 8 or 4 inputs that word covers). */
fn dotX(word: vec4<u32>, t: u32, c: u32) -> f32 {
  let xPerWord = valuesPerWord() / 4u;                      // vec4s of x per weight word
  let xi = t * (params.inputs / 4u) + xPerWord * c;
  return dotWord(word, xVec(xi), xVec(min(xi + 1u, xi + xPerWord - 1u)));
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) groups: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let lane = lid % LANES;
  let row = lid / LANES;
  let block = wid.x + wid.y * groups.x;
  let rowBlocks = (params.numOutputs + ROWS - 1u) / ROWS;
  if (ROUTER_FOLD && block >= rowBlocks) { // uniform: the workgroup's
    foldedRouterLogit(block - rowBlocks, lid);
    return;
  }
  let t0 = wid.z * MAX_TOKENS;                              // this workgroup's first token
  let tokens = min(MAX_TOKENS, params.numTokens - t0);
  let n = block * ROWS + row;
  let valid = n < params.numOutputs;
  let words = params.inputs / valuesPerWord();              // vec4<u32> per weight row
  let rowBase = n * words;
  // NORM: the thread's first four weight words are requested before the norm, so that their wait on
  // memory overlaps the norm's (x from cache, its reduction's barriers) instead of following it
  let early = NORM && valid && lane + 3u * LANES < words;
  var e0 = vec4<u32>();
  var e1 = vec4<u32>();
  var e2 = vec4<u32>();
  var e3 = vec4<u32>();
  if (early) {
    e0 = w[rowBase + lane];
    e1 = w[rowBase + lane + LANES];
    e2 = w[rowBase + lane + 2u * LANES];
    e3 = w[rowBase + lane + 3u * LANES];
  }
  if (NORM) { normInput(lid, block == 0u); }
  var acc: array<f32, MAX_TOKENS>;
  for (var t = 0u; t < MAX_TOKENS; t++) { acc[t] = 0.0; }
  if (valid) {
    var c = lane;
    if (early) { // NORM: one token
      acc[0] = dotX(e0, t0, c) + dotX(e1, t0, c + LANES) + dotX(e2, t0, c + 2u * LANES) + dotX(e3, t0, c + 3u * LANES);
      c += 4u * LANES;
    }
    // four words per lane in flight at a time: decode has few rows, so each thread must keep several
    // loads outstanding for the weights to stream at memory speed
    for (; c + 3u * LANES < words; c += 4u * LANES) {
      let w0 = w[rowBase + c];
      let w1 = w[rowBase + c + LANES];
      let w2 = w[rowBase + c + 2u * LANES];
      let w3 = w[rowBase + c + 3u * LANES];
      for (var t = 0u; t < tokens; t++) {
        let u = t0 + t;
        acc[t] += dotX(w0, u, c) + dotX(w1, u, c + LANES) + dotX(w2, u, c + 2u * LANES) + dotX(w3, u, c + 3u * LANES);
      }
    }
    for (; c < words; c += LANES) {
      let word = w[rowBase + c];
      for (var t = 0u; t < tokens; t++) { acc[t] += dotX(word, t0 + t, c); }
    }
  }
  var bias = 0.0;
  if (valid && params.hasBias == 1u) { bias = weightValue(b[weightWord(n)], n); }
  for (var t = 0u; t < tokens; t++) {
    let total = rowSum(lid, acc[t]);
    if (valid && lane == 0u) {
      if (params.accumulate == 1u) {
        let at = (t0 + t) * params.stride0 + params.offset0 + n;
        var branch = total + bias;
        if (params.hasPending == 1u) { branch += r[n]; }
        if (ROUTER_FOLD) {
          y0[at] = y2[at] + params.residualScale * branch;
        } else {
          y0[at] += params.residualScale * branch;
        }
      } else {
        storeOutput(t0 + t, n, total + bias);
      }
    }
  }
}

const FOLD_IN_FLIGHT: u32 = 4u; // loads per thread and input in flight

/**
 * ROUTER_FOLD: expert e's router logit before the norm's scale, y1[e] = fold[e] · [v ; residualScale · x]
 * with v = y2 + residualScale · r, the stream before this layer's branch is added (one token; H = N, K inputs).
 */
fn foldedRouterLogit(e: u32, lid: u32) {
  let H = params.numOutputs;
  let K = params.inputs;
  let row = e * (H + K);
  var stream = 0.0;
  var attended = 0.0;
  for (var j0 = lid; j0 < H; j0 += FOLD_IN_FLIGHT * WORKGROUP_SIZE) {
    for (var u = 0u; u < FOLD_IN_FLIGHT; u++) {
      let j = j0 + u * WORKGROUP_SIZE;
      if (j < H) {
        var v = y2[j];
        if (params.hasPending == 1u) { v += params.residualScale * r[j]; }
        stream += bitcast<f32>(normWeight[row + j]) * v;
      }
    }
  }
  for (var j0 = lid; j0 < K; j0 += FOLD_IN_FLIGHT * WORKGROUP_SIZE) {
    for (var u = 0u; u < FOLD_IN_FLIGHT; u++) {
      let j = j0 + u * WORKGROUP_SIZE;
      if (j < K) { attended += bitcast<f32>(normWeight[row + H + j]) * x[j / 4u][j % 4u]; }
    }
  }
  let logit = workgroupSum(lid, stream + params.residualScale * attended);
  if (lid == 0u) { y1[e] = logit; }
}
