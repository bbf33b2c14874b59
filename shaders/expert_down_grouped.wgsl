// Prefill down projection as one grouped matrix multiply, tiled like matmul.wgsl (tile_multiply):
// workgroup (output tile x, tile y of some expert e's pairs: expert_tiles.wgsl) computes 32 of e's pairs ×
// 128 of the H outputs.
//   y[p, h] = (W_down[e] hidden[p])[h]   for each pair p of expert e; combined back per token afterwards.

#include "weights"

struct Params {
  hidden: u32,         // H
  width: u32,          // I
  transposed: u32,     // 0: [E, H, I]; 1: [E, I, H]
  numExperts: u32,     // E
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<vec4<f32>>;       // [P, I] the pairs' hidden states
@group(0) @binding(2) var<storage, read> offsets: array<u32>;       // expert_tiles.wgsl
@group(0) @binding(3) var<storage, read> sorted: array<u32>;        // [P]
@group(0) @binding(4) var<storage, read> w: array<vec4<u32>>;       // down bank, packed
@group(0) @binding(5) var<storage, read_write> y: array<f32>;       // [P, H]

#include "tile_multiply"
var<workgroup> hTile: ATile; // pairs
var<workgroup> wTile: BTile; // outputs

#include "expert_layout"
#include "expert_tiles"

var<private> expert: u32;
fn weightIndex(row: u32, input: u32) -> u32 { return downIndex(expert, row, input); }

var<private> pairOk: bool;              // the pair this thread stages (row aRow of the tile)
var<private> pair: u32;
var<private> outputs: array<u32, 2>;    // the weight rows it stages (rows bRow, bRow + 64)
fn loadStep(k: u32) {
  let I = params.width;
  aStaged = loadActivations(pairOk, pair * I, k, I);
  for (var s = 0u; s < 2u; s++) { loadWeights(s, outputs[s] < params.hidden, outputs[s], k, I); }
}

@compute @workgroup_size(16, 8)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) local: vec3u,
        @builtin(local_invocation_index) li: u32) {
  let tile = expertTile(wid.y);
  if (tile.count == 0u) { return; }        // uniform: the whole workgroup leaves
  expert = tile.expert;
  let begin = tile.begin;
  let count = tile.count;
  let H = params.hidden;
  let I = params.width;
  let h0 = wid.x * B_ROWS;

  let r = aRow(li);
  pairOk = r < count;
  pair = 0u;
  if (pairOk) { pair = sorted[begin + r]; }
  for (var s = 0u; s < 2u; s++) { outputs[s] = h0 + bRow(li) + 64u * s; }
  var acc: Accumulators; // [4j + a]: pair 4ty + a, outputs h0 + 64j + 4tx … +3
  multiplyTiles(&acc, &hTile, &wTile, 0u, I, count, li, local);
  for (var j = 0u; j < 2u; j++) {
    for (var a = 0u; a < 4u; a++) {
      let p = 4u * local.y + a;
      for (var c = 0u; c < 4u; c++) {
        let hj = h0 + 64u * j + 4u * local.x + c;
        if (p < count && hj < H) { y[sorted[begin + p] * H + hj] = acc[4u * j + a][c]; }
      }
    }
  }
}
