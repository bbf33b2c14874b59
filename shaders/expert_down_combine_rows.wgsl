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

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let lane = lid % LANES;
  let h = wid.x * ROWS + lid / LANES;
  let t = wid.y + wid.z * 65535u;
  let valid = h < params.hidden && t < params.numTokens;
  let words = params.width / valuesPerWord();
  let xPerWord = valuesPerWord() / 4u;
  var total = 0.0;
  if (valid) {
    for (var slot = 0u; slot < params.topK; slot++) {
      let p = t * params.topK + slot;
      let row = (expertIds[p] * params.hidden + h) * words;
      let xBase = p * (params.width / 4u);
      var acc = 0.0;
      for (var c = lane; c < words; c += LANES) {
        let xi = xBase + xPerWord * c;
        acc += dotWord(down[row + c], hiddenIn[xi], hiddenIn[min(xi + 1u, xi + xPerWord - 1u)]);
      }
      total += combineWeight(p) * acc;
    }
  }
  let s = rowSum(lid, total);
  if (valid && lane == 0u) {
    let o = t * params.hidden + h;
    out[o] = select(s, out[o] + s, params.accumulate == 1u);
  }
}
