// Prefill down projection as a grouped matrix multiply, included after a tiling (expert_down_grouped:
// tile_multiply, 32 pairs per tile; expert_down_grouped_64: tile_multiply_64, 64 pairs). Workgroup
// (output tile x, tile y of some expert e's pairs: expert_tiles.wgsl) computes A_ROWS of e's pairs × 128
// of the H outputs.
//   y[p, h] = (W_down[e] hidden[p])[h]   for each pair p of expert e; combined back per token afterwards.
// 32-pair tiles may be split over the inputs (expert_split.wgsl): partials[z, row, h], then summed.

#include "weights"

struct Params {
  hidden: u32,         // H
  width: u32,          // I
  transposed: u32,     // 0: [E, H, I]; 1: [E, I, H]
  numExperts: u32,     // E
  bigTiles: u32,       // entries of the 64-pair tile list (expert_tiles.wgsl)
  kChunk: u32,         // inputs per chunk (expert_split.wgsl); I unsplit
  splits: u32,         // S
  partialRows: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<vec4<f32>>;       // [P, I] the pairs' hidden states
@group(0) @binding(2) var<storage, read> offsets: array<u32>;       // expert_tiles.wgsl
@group(0) @binding(3) var<storage, read> sorted: array<u32>;        // [P]
@group(0) @binding(4) var<storage, read> w: array<vec4<u32>>;       // down bank, packed
@group(0) @binding(5) var<storage, read_write> y: array<f32>;       // [P, H]

var<workgroup> hTile: ATile; // pairs
var<workgroup> wTile: BTile; // outputs

#include "expert_layout"
#include "expert_tiles"
#include "expert_split"

fn weightIndex(row: u32, input: u32) -> u32 { return downIndex(expert, row, input); }

var<private> outputs: array<u32, 2>;    // the weight rows it stages (rows bRow, bRow + 64)
fn loadStep(k: u32) {
  let I = params.width;
  for (var s = 0u; s < A_STAGED; s++) { aStaged[s] = loadActivations(pairOk[s], stagedPairs[s] * I, k, I); }
  for (var s = 0u; s < 2u; s++) { loadWeights(s, outputs[s] < params.hidden, outputs[s], k, I); }
}

var<private> h0: u32;
/** Tile row `row` (a pair) against outputs h0 + col … +3. */
fn storeAccumulator(v: vec4<f32>, row: u32, col: u32) {
  let H = params.hidden;
  if (row >= tile.count) { return; }
  let out = select(sorted[tile.begin + row], chunk * params.partialRows + tileRow + row, SPLIT_PHASE == 1u) * H;
  for (var c = 0u; c < 4u; c++) {
    let h = h0 + col + c;
    if (h < H) {
      if (SPLIT_PHASE == 1u) { partials[out + h] = v[c]; } else { y[out + h] = v[c]; }
    }
  }
}

/** SPLIT_PHASE 2: thread li of workgroup (x, t) finishes output 128x + li of every pair of tile t. */
fn finish(t: u32, x: u32, li: u32) {
  let H = params.hidden;
  let here = expertTile(t);
  let h = x * 128u + li;
  if (h >= H) { return; }
  for (var r = 0u; r < here.count; r++) {
    y[sorted[here.begin + r] * H + h] = partialSum((t * A_ROWS + r) * H + h, params.partialRows * H);
  }
}

@compute @workgroup_size(16, 8)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) local: vec3u,
        @builtin(local_invocation_index) li: u32) {
  if (SPLIT_PHASE == 2u) {
    finish(wid.y, wid.x, li);
    return;
  }
  let count = takeTile(wid, li);
  if (count == 0u) { return; }        // uniform: the whole workgroup leaves
  h0 = wid.x * B_ROWS;
  for (var s = 0u; s < 2u; s++) { outputs[s] = h0 + bRow(li) + 64u * s; }
  var acc: Accumulators;
  let kBegin = wid.z * params.kChunk; // wid.z, not the private `chunk`: a barrier's loop bounds must be uniform
  multiplyTiles(&acc, &hTile, &wTile, kBegin, min(params.width, kBegin + params.kChunk), count, li, local);
  storeAccumulators(&acc, local);
}
