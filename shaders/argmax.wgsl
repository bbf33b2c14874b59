// Greedy sampling, first of two passes: the best logit of each slice of SLICE_WIDTH columns of each row,
// best[r, s] = (value, id) with ties → the lower id (argmax_slices.wgsl then takes the best of a row's slices).
// A vocabulary row is spread over many workgroups: one workgroup scanning Qwen's 151,936 logits alone took
// 27.5 µs per decode step in place (H100), a chain of waits on memory in one SM.

struct Params {
  numRows: u32,
  width: u32,      // V
  rowOffset: u32,  // first row of logits to read
  slices: u32,     // S = ceil(V / SLICE_WIDTH)
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> logits: array<f32>;           // [R, V] f32
@group(0) @binding(2) var<storage, read_write> best: array<vec2u>;     // [R, S] (bitcast value, id)

#include "argmax_reduce"

const IN_FLIGHT: u32 = 16u; // loads per thread, issued together
const SLICE_WIDTH: u32 = IN_FLIGHT * WORKGROUP_SIZE; // 4,096 columns: one round of loads per thread

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let s = wid.x;
  let r = wid.y;
  let row = (r + params.rowOffset) * params.width;
  let first = s * SLICE_WIDTH;
  let end = min(first + SLICE_WIDTH, params.width);
  var v = -0x1.fffffep+127f;
  var idx = 0xffffffffu;
  // columns first + lid + u·256, in index order per thread so that the first of equal values wins
  var x: array<f32, IN_FLIGHT>;
  for (var u = 0u; u < IN_FLIGHT; u++) {
    let i = first + lid + u * WORKGROUP_SIZE;
    x[u] = select(v, logits[row + min(i, end - 1u)], i < end);
  }
  for (var u = 0u; u < IN_FLIGHT; u++) {
    if (x[u] > v) { v = x[u]; idx = first + lid + u * WORKGROUP_SIZE; }
  }
  reduceBest(lid, v, idx);
  if (lid == 0u) { best[r * params.slices + s] = vec2u(bitcast<u32>(bestValue[0]), bestIndex[0]); }
}
