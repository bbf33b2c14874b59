// Prefill down projection as one grouped matrix multiply, tiled like matmul.wgsl (tile_multiply):
// workgroup (output tile x, pair tile y, expert z) computes 64 of expert e's pairs × 64 of the H outputs.
//   y[p, h] = (W_down[e] hidden[p])[h]   for each pair p of expert e; combined back per token afterwards.

#include "weights"

struct Params {
  hidden: u32,         // H
  width: u32,          // I
  transposed: u32,     // 0: [E, H, I]; 1: [E, I, H]
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<vec4<f32>>;       // [P, I] the pairs' hidden states
@group(0) @binding(2) var<storage, read> offsets: array<u32>;       // [E + 1]
@group(0) @binding(3) var<storage, read> sorted: array<u32>;        // [P]
@group(0) @binding(4) var<storage, read> w: array<vec4<u32>>;       // down bank, packed
@group(0) @binding(5) var<storage, read_write> y: array<f32>;       // [P, H]

#include "tile_multiply"
var<workgroup> hTile: Tile; // pairs
var<workgroup> wTile: Tile; // outputs

#include "expert_layout"

var<private> expert: u32;
fn weightIndex(row: u32, input: u32) -> u32 { return downIndex(expert, row, input); }

var<private> pairOk: array<bool, 2>; // the pairs this thread stages (rows aRow, aRow + 32 of the tile)
var<private> pairs: array<u32, 2>;
var<private> output: u32;            // the weight row it stages (row bRow)
fn loadStep(k: u32) {
  let I = params.width;
  for (var s = 0u; s < 2u; s++) { aStaged[s] = loadActivations(pairOk[s], pairs[s] * I, k, I); }
  loadWeights(output < params.hidden, output, k, I);
}

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) local: vec3u,
        @builtin(local_invocation_index) li: u32) {
  let e = wid.z;
  expert = e;
  let begin = offsets[e] + wid.y * TILE;
  let end = min(offsets[e + 1u], begin + TILE);
  if (begin >= end) { return; }
  let count = end - begin;
  let H = params.hidden;
  let I = params.width;
  let h0 = wid.x * TILE;

  for (var s = 0u; s < 2u; s++) {
    let r = aRow(li) + 32u * s;
    pairOk[s] = r < count;
    pairs[s] = 0u;
    if (pairOk[s]) { pairs[s] = sorted[begin + r]; }
  }
  output = h0 + bRow(li);
  var acc: array<vec4<f32>, 4>; // [a][j]: pair 4ty + a, output h0 + 4tx + j
  multiplyTiles(&acc, &hTile, &wTile, I, li, local);
  for (var a = 0u; a < 4u; a++) {
    let p = 4u * local.y + a;
    for (var j = 0u; j < 4u; j++) {
      let hj = h0 + 4u * local.x + j;
      if (p < count && hj < H) { y[sorted[begin + p] * H + hj] = acc[a][j]; }
    }
  }
}
