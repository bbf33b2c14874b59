// First half of the expert FFN for every (token, slot) pair (decode), reading the chosen expert from a
// GPU buffer: one workgroup per (output row i, pair p), its threads striding over the H inputs.
//   hidden[p, i] = silu(W_gate[e] x_t)[i] · (W_up[e] x_t)[i],   e = expertIds[p], t = p / k
// The experts' gate and up projections are one packed tensor: [E, 2I, H] (rows 0..I−1 gate, I..2I−1 up),
// or its transpose [E, H, 2I] when transposed = 1. A dense MLP or shared expert is E = 1, ids all 0.

#include "weights"

struct Params {
  numPairs: u32,     // T · k
  topK: u32,         // k: pairs per token
  hidden: u32,       // H
  width: u32,        // I, expert intermediate size
  transposed: u32,   // 0: [E, 2I, H]; 1: [E, H, 2I]
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;             // [T, H] f32
@group(0) @binding(2) var<storage, read> expertIds: array<u32>;     // [T · k] u32
@group(0) @binding(3) var<storage, read> gateUp: array<u32>;        // [E, 2I, H] or [E, H, 2I] packed
@group(0) @binding(4) var<storage, read_write> hiddenOut: array<f32>; // [T · k, I] f32

const WORKGROUP_SIZE: u32 = 64u;
#include "workgroup_reduce"


#include "expert_layout"

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = wid.x;
  let p = wid.y + wid.z * 65535u;
  if (i >= params.width || p >= params.numPairs) { return; }
  let e = expertIds[p];
  let xBase = (p / params.topK) * params.hidden;
  var g = 0.0;
  var u = 0.0;
  for (var c = lid; c < params.hidden; c += WORKGROUP_SIZE) {
    let xv = x[xBase + c];
    let gi = gateUpIndex(e, i, c);
    let ui = gateUpIndex(e, i + params.width, c);
    g += xv * weightValue(gateUp[weightWord(gi)], gi);
    u += xv * weightValue(gateUp[weightWord(ui)], ui);
  }
  let gate = workgroupSum(lid, g);
  let up = workgroupSum(lid, u);
  if (lid == 0u) { hiddenOut[p * params.width + i] = gate / (1.0 + exp(-gate)) * up; }
}
