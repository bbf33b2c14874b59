// Prefill down projection as one grouped matrix multiply (same tiling as expert_gate_up_grouped):
//   y[p, h] = (W_down[e] hidden[p])[h]   for each pair p of expert e; combined back per token afterwards.

#include "weights"

struct Params {
  hidden: u32,         // H
  width: u32,          // I
  transposed: u32,     // 0: [E, H, I]; 1: [E, I, H]
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> hiddenIn: array<f32>;      // [P, I]
@group(0) @binding(2) var<storage, read> offsets: array<u32>;       // [E + 1]
@group(0) @binding(3) var<storage, read> sorted: array<u32>;        // [P]
@group(0) @binding(4) var<storage, read> down: array<u32>;          // packed
@group(0) @binding(5) var<storage, read_write> y: array<f32>;       // [P, H]

const WORKGROUP_SIZE: u32 = 64u;
const PAIR_TILE: u32 = 16u;
const K_TILE: u32 = 32u;
var<workgroup> hTile: array<array<f32, K_TILE>, PAIR_TILE>;

#include "expert_layout"

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let e = wid.z;
  let tile = wid.y;
  let begin = offsets[e] + tile * PAIR_TILE;
  let end = min(offsets[e + 1u], begin + PAIR_TILE);
  if (begin >= end) { return; }
  let count = end - begin;
  let h = wid.x * WORKGROUP_SIZE + lid;
  let H = params.hidden;
  let I = params.width;

  var acc: array<f32, PAIR_TILE>;
  for (var n = 0u; n < PAIR_TILE; n++) { acc[n] = 0.0; }
  for (var k0 = 0u; k0 < I; k0 += K_TILE) {
    for (var s = lid; s < PAIR_TILE * K_TILE; s += WORKGROUP_SIZE) {
      let n = s / K_TILE;
      let c = k0 + s % K_TILE;
      var v = 0.0;
      if (n < count && c < I) { v = hiddenIn[sorted[begin + n] * I + c]; }
      hTile[n][s % K_TILE] = v;
    }
    workgroupBarrier();
    if (h < H) {
      for (var c = 0u; c < K_TILE && k0 + c < I; c++) {
        let wi = downIndex(e, h, k0 + c);
        let w = weightValue(down[weightWord(wi)], wi);
        for (var n = 0u; n < PAIR_TILE; n++) { acc[n] += w * hTile[n][c]; }
      }
    }
    workgroupBarrier();
  }
  if (h < H) {
    for (var n = 0u; n < count; n++) { y[sorted[begin + n] * H + h] = acc[n]; }
  }
}
