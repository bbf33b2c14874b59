// expert_down_combine.wgsl for banks stored [E, H, I] with rows on 16-byte boundaries (I a multiple of 8
// for bf16/f16, of 4 for f32): ROWS output rows h per workgroup for one token, LANES threads per row, each
// streaming row h of every chosen expert 16 bytes per load, fused with the weighted combine.
//   out[t, h] (+)= Σ_slot weights[t, slot] · (W_down[e] hidden[(t, slot)])[h],   e = expertIds[t·k + slot]
// With SHARED = 1 it adds the shared expert too (its hidden rows after the routed pairs', see
// expert_gate_up_rows.wgsl), weighted by sharedWeights[t] or its sigmoid (Qwen2-MoE's gate):
//   out[t, h] += ws_t · (Ws_down hidden_s[t])[h]
// SLOTS_APART (k + m dividing ROWS, m = Is / I with a shared expert, else 0): each group of LANES threads
// takes one part of a row, a chosen expert's row or one of m slices of I values of the shared expert's,
// instead of all of them one after another, so a workgroup holds ROWS / (k + m) rows and every thread
// has one round of loads in flight, not k + m; the parts' weighted dots meet in workgroup memory. H200,
// decode (k = 8): OLMoE 25 → 22 µs per layer, granite 18 → 14.5.

#include "weights"
#include "row_reduce"

struct Params {
  numTokens: u32,    // T
  topK: u32,         // k
  hidden: u32,       // H
  width: u32,        // I
  accumulate: u32,
  sigmoidWeights: u32, // 1: combine with sigmoid(weights) (see combine_weight)
  sharedWidth: u32,    // Is (SHARED = 1)
  sharedSigmoid: u32,  // 1: weight the shared expert by sigmoid(sharedWeights[t])
}

override SHARED: u32 = 0u;
override SLOTS_APART: bool = false;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> hiddenIn: array<vec4<f32>>; // [T · k, I/4]
@group(0) @binding(2) var<storage, read> expertIds: array<u32>;      // [T · k] u32
@group(0) @binding(3) var<storage, read> weights: array<f32>;        // [T · k] f32 combine weights
@group(0) @binding(4) var<storage, read> down: array<vec4<u32>>;     // [E, H, I] packed
@group(0) @binding(5) var<storage, read_write> out: array<f32>;      // [T, H] f32
@group(0) @binding(6) var<storage, read> sharedDown: array<vec4<u32>>; // [1, H, Is] packed (SHARED)
@group(0) @binding(7) var<storage, read> sharedWeights: array<f32>;    // [T] f32 (SHARED)
#include "combine_weight"

/** A pair's hidden values (from vec4 xBase) against weight word c of a down row. */
fn dotHidden(word: vec4<u32>, xBase: u32, c: u32) -> f32 {
  let xPerWord = valuesPerWord() / 4u;
  let xi = xBase + xPerWord * c;
  return dotWord(word, hiddenIn[xi], hiddenIn[min(xi + 1u, xi + xPerWord - 1u)]);
}

/** Word `at` of the routed bank, or of the shared expert's. */
fn downWord(ofShared: bool, at: u32) -> vec4<u32> {
  if (!ofShared || SHARED == 0u) { return down[at]; }
  return sharedDown[at];
}

/** One down row (`words` 16-byte words from `row`) against a pair's hidden values (from vec4 xBase). */
fn rowDot(ofShared: bool, row: u32, xBase: u32, words: u32, lane: u32) -> f32 {
  var acc = 0.0;
  var c = lane;
  // four words per lane in flight: rows are short (I values), so without this each thread waits on
  // memory once per word (latency-bound at half the bandwidth)
  for (; c + 3u * LANES < words; c += 4u * LANES) {
    let w0 = downWord(ofShared, row + c);
    let w1 = downWord(ofShared, row + c + LANES);
    let w2 = downWord(ofShared, row + c + 2u * LANES);
    let w3 = downWord(ofShared, row + c + 3u * LANES);
    acc += dotHidden(w0, xBase, c) + dotHidden(w1, xBase, c + LANES) + dotHidden(w2, xBase, c + 2u * LANES) + dotHidden(w3, xBase, c + 3u * LANES);
  }
  for (; c < words; c += LANES) { acc += dotHidden(downWord(ofShared, row + c), xBase, c); }
  return acc;
}

/** Chosen pair p's down row h, weighted, against the pair's hidden values. */
fn routedDot(p: u32, h: u32, lane: u32) -> f32 {
  let words = params.width / valuesPerWord();
  return combineWeight(p) * rowDot(false, (expertIds[p] * params.hidden + h) * words, p * (params.width / 4u), words, lane);
}

/** Token t's shared expert, weighted: values first … first + count − 1 of its down row h against its hidden values. */
fn sharedDot(t: u32, h: u32, first: u32, count: u32, lane: u32) -> f32 {
  let ws = sharedWeights[t];
  let weight = select(ws, 1.0 / (1.0 + exp(-ws)), params.sharedSigmoid == 1u);
  let hidden = params.numTokens * params.topK * params.width + t * params.sharedWidth; // its hidden row's first value
  return weight * rowDot(true, (h * params.sharedWidth + first) / valuesPerWord(), (hidden + first) / 4u, count / valuesPerWord(), lane);
}

var<workgroup> slotDots: array<f32, ROWS>; // SLOTS_APART: each group's weighted dot

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  if (SLOTS_APART) {
    slotsApart(wid, lid);
    return;
  }
  let lane = lid % LANES;
  let h = wid.x * ROWS + lid / LANES;
  let t = wid.y + wid.z * 65535u;
  let valid = h < params.hidden && t < params.numTokens;
  var total = 0.0;
  if (valid) {
    for (var slot = 0u; slot < params.topK; slot++) { total += routedDot(t * params.topK + slot, h, lane); }
    if (SHARED == 1u) { total += sharedDot(t, h, 0u, params.sharedWidth, lane); }
  }
  let s = rowSum(lid, total);
  if (valid && lane == 0u) {
    let o = t * params.hidden + h;
    out[o] = select(s, out[o] + s, params.accumulate == 1u);
  }
}

/**
 * SLOTS_APART: group g of the workgroup is part g % (k + m) of row wid.x · (ROWS / (k + m)) + g / (k + m):
 * the row of chosen expert `part` (part < k), or slice part − k of the shared expert's row.
 */
fn slotsApart(wid: vec3u, lid: u32) {
  let lane = lid % LANES;
  let group = lid / LANES;
  let k = params.topK;
  let parts = k + SHARED * (params.sharedWidth / params.width);
  let part = group % parts;
  let h = wid.x * (ROWS / parts) + group / parts;
  let t = wid.y + wid.z * 65535u;
  let valid = h < params.hidden && t < params.numTokens;
  var dot = 0.0;
  if (valid) {
    if (part < k) {
      dot = routedDot(t * k + part, h, lane);
    } else {
      dot = sharedDot(t, h, (part - k) * params.width, params.width, lane); // slice part − k
    }
  }
  let s = rowSum(lid, dot);
  if (lane == 0u) { slotDots[group] = s; }
  workgroupBarrier();
  if (valid && lane == 0u && part == 0u) {
    var total = 0.0;
    for (var j = 0u; j < parts; j++) { total += slotDots[group + j]; }
    let o = t * params.hidden + h;
    out[o] = select(total, out[o] + total, params.accumulate == 1u);
  }
}
