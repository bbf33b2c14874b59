// Greedy sampling, second pass: ids[r] = the best of row r's slices from argmax.wgsl (ties → the lower id).

struct Params {
  numRows: u32,
  slices: u32,  // S
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> best: array<vec2u>;          // [R, S] (bitcast value, id)
@group(0) @binding(2) var<storage, read_write> ids: array<u32>;       // [R] u32

#include "argmax_reduce"

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let r = wid.x;
  var v = -0x1.fffffep+127f;
  var idx = 0xffffffffu;
  for (var s = lid; s < params.slices; s += WORKGROUP_SIZE) { // slices in order: the first of equal values wins
    let b = best[r * params.slices + s];
    let value = bitcast<f32>(b.x);
    if (value > v) { v = value; idx = b.y; }
  }
  reduceBest(lid, v, idx);
  if (lid == 0u) { ids[r] = bestIndex[0]; }
}
