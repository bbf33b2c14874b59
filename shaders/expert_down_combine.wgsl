// Second half of the expert FFN (decode), fused with the weighted combine back to token order: one
// workgroup per (output row h, token t), its threads striding over the I inputs of each chosen expert.
//   out[t, h] (+)= Σ_slot weights[t, slot] · (W_down[e] hidden[(t, slot)])[h],   e = expertIds[t·k + slot]
// W_down is [E, H, I], or [E, I, H] when transposed = 1. accumulate = 1 adds to out (shared experts after
// routed ones); 0 overwrites.

#include "weights"

struct Params {
  numTokens: u32,    // T
  topK: u32,         // k
  hidden: u32,       // H
  width: u32,        // I
  transposed: u32,   // 0: [E, H, I]; 1: [E, I, H]
  accumulate: u32,
  sigmoidWeights: u32, // 1: combine with sigmoid(weights) (see combine_weight)
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> hiddenIn: array<f32>;      // [T · k, I] f32
@group(0) @binding(2) var<storage, read> expertIds: array<u32>;     // [T · k] u32
@group(0) @binding(3) var<storage, read> weights: array<f32>;       // [T · k] f32 combine weights
@group(0) @binding(4) var<storage, read> down: array<u32>;          // [E, H, I] or [E, I, H] packed
@group(0) @binding(5) var<storage, read_write> out: array<f32>;     // [T, H] f32
#include "combine_weight"

const WORKGROUP_SIZE: u32 = 64u;
#include "workgroup_reduce"

#include "expert_layout"

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let h = wid.x;
  let t = wid.y + wid.z * 65535u;
  if (h >= params.hidden || t >= params.numTokens) { return; }
  let H = params.hidden;
  let I = params.width;
  var partialTotal = 0.0;
  for (var slot = 0u; slot < params.topK; slot++) {
    let p = t * params.topK + slot;
    let e = expertIds[p];
    var acc = 0.0;
    for (var i = lid; i < I; i += WORKGROUP_SIZE) {
      let wi = downIndex(e, h, i);
      acc += hiddenIn[p * I + i] * weightValue(down[weightWord(wi)], wi);
    }
    partialTotal += combineWeight(p) * acc;
  }
  let total = workgroupSum(lid, partialTotal);
  if (lid == 0u) {
    let o = t * H + h;
    out[o] = select(total, out[o] + total, params.accumulate == 1u);
  }
}
