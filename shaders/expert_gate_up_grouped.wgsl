// Prefill gate/up + SwiGLU as one grouped matrix multiply: workgroup (output tile x, pair tile y, expert z)
// takes up to PAIR_TILE of e's pairs (from the sorted list) and WORKGROUP_SIZE of its I output rows.
// Each weight element is read once per workgroup and used for every pair of the tile; the pairs' inputs
// are staged in workgroup memory K_TILE columns at a time.
//   hidden[p, i] = silu(W_gate[e] x_t)[i] · (W_up[e] x_t)[i]

#include "weights"

struct Params {
  hidden: u32,        // H
  width: u32,         // I
  topK: u32,          // k: pair p is token p / k
  transposed: u32,    // 0: [E, 2I, H]; 1: [E, H, 2I]
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;               // [T, H] f32
@group(0) @binding(2) var<storage, read> offsets: array<u32>;         // [E + 1]
@group(0) @binding(3) var<storage, read> sorted: array<u32>;          // [P]
@group(0) @binding(4) var<storage, read> gateUp: array<u32>;          // packed
@group(0) @binding(5) var<storage, read_write> hiddenOut: array<f32>; // [P, I]

const WORKGROUP_SIZE: u32 = 64u;
const PAIR_TILE: u32 = 16u;
const K_TILE: u32 = 32u;
var<workgroup> xTile: array<array<f32, K_TILE>, PAIR_TILE>;


#include "expert_layout"

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let e = wid.z;
  let tile = wid.y;
  let begin = offsets[e] + tile * PAIR_TILE;
  let end = min(offsets[e + 1u], begin + PAIR_TILE);
  if (begin >= end) { return; }            // uniform: the whole workgroup leaves
  let count = end - begin;
  let i = wid.x * WORKGROUP_SIZE + lid;
  let H = params.hidden;

  var g: array<f32, PAIR_TILE>;
  var u: array<f32, PAIR_TILE>;
  for (var n = 0u; n < PAIR_TILE; n++) { g[n] = 0.0; u[n] = 0.0; }
  for (var k0 = 0u; k0 < H; k0 += K_TILE) {
    // stage the tile's inputs: PAIR_TILE × K_TILE values, 64 threads
    for (var s = lid; s < PAIR_TILE * K_TILE; s += WORKGROUP_SIZE) {
      let n = s / K_TILE;
      let c = k0 + s % K_TILE;
      var v = 0.0;
      if (n < count && c < H) { v = x[(sorted[begin + n] / params.topK) * H + c]; }
      xTile[n][s % K_TILE] = v;
    }
    workgroupBarrier();
    if (i < params.width) {
      for (var c = 0u; c < K_TILE && k0 + c < H; c++) {
        let gi = gateUpIndex(e, i, k0 + c);
        let ui = gateUpIndex(e, i + params.width, k0 + c);
        let wg = weightValue(gateUp[weightWord(gi)], gi);
        let wu = weightValue(gateUp[weightWord(ui)], ui);
        for (var n = 0u; n < PAIR_TILE; n++) {
          g[n] += wg * xTile[n][c];
          u[n] += wu * xTile[n][c];
        }
      }
    }
    workgroupBarrier();
  }
  if (i < params.width) {
    for (var n = 0u; n < count; n++) {
      hiddenOut[sorted[begin + n] * params.width + i] = g[n] / (1.0 + exp(-g[n])) * u[n];
    }
  }
}
