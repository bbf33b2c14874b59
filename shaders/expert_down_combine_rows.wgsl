// expert_down_combine.wgsl for banks stored [E, H, I] with rows on 16-byte boundaries (I a multiple of 8
// for bf16/f16, of 4 for f32): ROWS output rows h per workgroup for one token, LANES threads per row, each
// streaming row h of every chosen expert 16 bytes per load, fused with the weighted combine.
//   out[t, h] (+)= Σ_slot weights[t, slot] · (W_down[e] hidden[(t, slot)])[h],   e = expertIds[t·k + slot]

#include "weights"
#include "row_reduce"

struct Params {
  numTokens: u32,    // T
  topK: u32,         // k
  hidden: u32,       // H
  width: u32,        // I
  accumulate: u32,
  sigmoidWeights: u32, // 1: combine with sigmoid(weights) (see combine_weight)
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> hiddenIn: array<vec4<f32>>; // [T · k, I/4]
@group(0) @binding(2) var<storage, read> expertIds: array<u32>;      // [T · k] u32
@group(0) @binding(3) var<storage, read> weights: array<f32>;        // [T · k] f32 combine weights
@group(0) @binding(4) var<storage, read> down: array<vec4<u32>>;     // [E, H, I] packed
@group(0) @binding(5) var<storage, read_write> out: array<f32>;      // [T, H] f32
#include "combine_weight"

/** A pair's hidden values (from vec4 xBase) against weight word c of a down row. */
fn dotHidden(word: vec4<u32>, xBase: u32, c: u32) -> f32 {
  let xPerWord = valuesPerWord() / 4u;
  let xi = xBase + xPerWord * c;
  return dotWord(word, hiddenIn[xi], hiddenIn[min(xi + 1u, xi + xPerWord - 1u)]);
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let lane = lid % LANES;
  let h = wid.x * ROWS + lid / LANES;
  let t = wid.y + wid.z * 65535u;
  let valid = h < params.hidden && t < params.numTokens;
  let words = params.width / valuesPerWord();
  var total = 0.0;
  if (valid) {
    for (var slot = 0u; slot < params.topK; slot++) {
      let p = t * params.topK + slot;
      let row = (expertIds[p] * params.hidden + h) * words;
      let xBase = p * (params.width / 4u);
      var acc = 0.0;
      var c = lane;
      // four words per lane in flight: rows are short (I values), so without this each thread waits on
      // memory once per word (latency-bound at half the bandwidth)
      for (; c + 3u * LANES < words; c += 4u * LANES) {
        let w0 = down[row + c];
        let w1 = down[row + c + LANES];
        let w2 = down[row + c + 2u * LANES];
        let w3 = down[row + c + 3u * LANES];
        acc += dotHidden(w0, xBase, c) + dotHidden(w1, xBase, c + LANES) + dotHidden(w2, xBase, c + 2u * LANES) + dotHidden(w3, xBase, c + 3u * LANES);
      }
      for (; c < words; c += LANES) { acc += dotHidden(down[row + c], xBase, c); }
      total += combineWeight(p) * acc;
    }
  }
  let s = rowSum(lid, total);
  if (valid && lane == 0u) {
    let o = t * params.hidden + h;
    out[o] = select(s, out[o] + s, params.accumulate == 1u);
  }
}
