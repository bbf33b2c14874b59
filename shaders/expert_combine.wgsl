// Weighted combine back to token order, in slot order (deterministic, no float atomics):
//   out[t, h] (+)= Σ_slot weights[t, slot] · y[t · k + slot, h]

struct Params {
  numTokens: u32,
  topK: u32,
  hidden: u32,
  accumulate: u32,
  sigmoidWeights: u32, // 1: combine with sigmoid(weights) (see combine_weight)
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> y: array<f32>;         // [T · k, H]
@group(0) @binding(2) var<storage, read> weights: array<f32>;   // [T · k]
@group(0) @binding(3) var<storage, read_write> out: array<f32>; // [T, H]
#include "combine_weight"

override WORKGROUP_SIZE: u32 = 64;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let h = gid.x;
  let t = gid.y + gid.z * 65535u;
  if (h >= params.hidden || t >= params.numTokens) { return; }
  var total = 0.0;
  for (var slot = 0u; slot < params.topK; slot++) {
    let p = t * params.topK + slot;
    total += combineWeight(p) * y[p * params.hidden + h];
  }
  let o = t * params.hidden + h;
  out[o] = select(total, out[o] + total, params.accumulate == 1u);
}
