// Prefill down projection as one grouped matrix multiply, tiled like expert_gate_up_grouped.wgsl:
// workgroup (output tile x, pair tile y, expert z) computes 64 of expert e's pairs × 64 of the H outputs.
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

#include "tile_multiply"
var<workgroup> hTile: Tile; // [pair][input]
var<workgroup> wTile: Tile; // [output][input]

#include "expert_layout"

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) local: vec3u,
        @builtin(local_invocation_index) li: u32) {
  let e = wid.z;
  let begin = offsets[e] + wid.y * TILE;
  let end = min(offsets[e + 1u], begin + TILE);
  if (begin >= end) { return; }
  let count = end - begin;
  let H = params.hidden;
  let I = params.width;
  let h0 = wid.x * TILE;

  var acc: array<f32, 16>; // [a][b]: pair ty + 16a, output tx + 16b
  for (var n = 0u; n < 16u; n++) { acc[n] = 0.0; }
  for (var k0 = 0u; k0 < I; k0 += STEP) {
    for (var j = 0u; j < 4u; j++) {
      let s = li + 256u * j;
      let r = s / STEP;
      let c = s % STEP;
      let k = k0 + c;
      var hv = 0.0;
      if (r < count && k < I) { hv = hiddenIn[sorted[begin + r] * I + k]; }
      hTile[r][c] = hv;
      var wv = 0.0;
      if (h0 + r < H && k < I) {
        let wi = downIndex(e, h0 + r, k);
        wv = weightValue(down[weightWord(wi)], wi);
      }
      wTile[r][c] = wv;
    }
    workgroupBarrier();
    accumulateTile(&acc, &hTile, &wTile, local);
    workgroupBarrier();
  }
  for (var a = 0u; a < 4u; a++) {
    let r = local.y + 16u * a;
    for (var b = 0u; b < 4u; b++) {
      let h = h0 + local.x + 16u * b;
      if (r < count && h < H) { y[sorted[begin + r] * H + h] = acc[a * 4u + b]; }
    }
  }
}
