// Prefill gate/up + SwiGLU as a grouped matrix multiply, included after a tiling (expert_gate_up_grouped:
// tile_multiply, 32 pairs per tile; expert_gate_up_grouped_64: tile_multiply_64, 64 pairs). Workgroup
// (output tile x, tile y of some expert e's pairs: expert_tiles.wgsl) computes A_ROWS of e's pairs (from
// the list sorted by expert) × 64 of its I intermediate units: the 128 weight rows of a tile are the gate
// and up rows of those 64 units, interleaved so that each group of four rows a thread owns is gate i,
// gate i+1, up i, up i+1 and it can apply SwiGLU to its own accumulators.
//   hidden[p, i] = silu(W_gate[e] x_t)[i] · (W_up[e] x_t)[i],   t = p / k
// With GATE_ONLY (the expert probe's intermediate states) it writes silu(W_gate[e] x_t)[i] alone.
// 32-pair tiles may be split over the inputs (expert_split.wgsl): phase 1 keeps each pair's gate and up
// sums side by side (partials[z, row, 2i], [.., 2i + 1]), phase 2 adds the chunks and applies SwiGLU.

#include "weights"

override GATE_ONLY: bool = false;

struct Params {
  hidden: u32,        // H
  width: u32,         // I
  topK: u32,          // k: pair p is token p / k
  transposed: u32,    // 0: [E, 2I, H]; 1: [E, H, 2I]
  numExperts: u32,    // E
  bigTiles: u32,      // entries of the 64-pair tile list (expert_tiles.wgsl)
  kChunk: u32,        // inputs per chunk (expert_split.wgsl); H unsplit
  splits: u32,        // S
  partialRows: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<vec4<f32>>;         // [T, H] f32
@group(0) @binding(2) var<storage, read> offsets: array<u32>;         // expert_tiles.wgsl
@group(0) @binding(3) var<storage, read> sorted: array<u32>;          // [P]
@group(0) @binding(4) var<storage, read> w: array<vec4<u32>>;         // gate|up bank, packed
@group(0) @binding(5) var<storage, read_write> hiddenOut: array<f32>; // [P, I]

var<workgroup> xTile: ATile;      // pairs
var<workgroup> gateUpTile: BTile; // gate and up rows, interleaved

#include "expert_layout"
#include "expert_tiles"
#include "expert_split"

fn weightIndex(row: u32, input: u32) -> u32 { return gateUpIndex(expert, row, input); }

var<private> tokens: array<u32, A_STAGED>;   // the tokens of the pairs this thread stages
var<private> units: array<u32, 2>;      // the weight rows it stages (rows bRow, bRow + 64): a unit's gate or up row
var<private> bankRows: array<u32, 2>;
fn loadStep(k: u32) {
  let H = params.hidden;
  for (var s = 0u; s < A_STAGED; s++) { aStaged[s] = loadActivations(pairOk[s], tokens[s] * H, k, H); }
  for (var s = 0u; s < 2u; s++) { loadWeights(s, units[s] < params.width, bankRows[s], k, H); }
}

const UNITS: u32 = B_ROWS / 2u; // intermediate units per workgroup

/** hidden[pair, i] from unit i's gate and up sums. */
fn storeHidden(pair: u32, i: u32, gate: f32, up: f32) {
  let silu = gate / (1.0 + exp(-gate));
  hiddenOut[pair * params.width + i] = select(silu * up, silu, GATE_ONLY);
}

var<private> i0: u32;
/** Tile row `row` (a pair) against tile columns col … col + 3: gate, gate, up, up of units i0 + col / 2, +1. */
fn storeAccumulator(v: vec4<f32>, row: u32, col: u32) {
  let I = params.width;
  if (row >= tile.count) { return; }
  let pair = sorted[tile.begin + row];
  let partial = (chunk * params.partialRows + tileRow + row) * 2u * I;
  for (var u = 0u; u < 2u; u++) {
    let i = i0 + col / 2u + u;
    if (i < I) {
      if (SPLIT_PHASE == 1u) {
        partials[partial + 2u * i] = v[u];
        partials[partial + 2u * i + 1u] = v[u + 2u];
      } else {
        storeHidden(pair, i, v[u], v[u + 2u]);
      }
    }
  }
}

/** SPLIT_PHASE 2: thread li of workgroup (x, y) finishes unit 128x + li of every pair of tile y. */
fn finish(y: u32, x: u32, li: u32) {
  let I = params.width;
  let here = expertTile(y);
  let i = x * 128u + li;
  if (i >= I) { return; }
  let stride = params.partialRows * 2u * I;
  for (var r = 0u; r < here.count; r++) {
    let at = (y * A_ROWS + r) * 2u * I + 2u * i;
    storeHidden(sorted[here.begin + r], i, partialSum(at, stride), partialSum(at + 1u, stride));
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
  let H = params.hidden;
  let I = params.width;
  i0 = wid.x * UNITS;

  // staged rows: pairs aStagedRow of the tile (takeTile); tile row n is unit i0 + 2(n / 4) + n % 2, its
  // gate row for n % 4 < 2, else its up row
  for (var s = 0u; s < A_STAGED; s++) { tokens[s] = stagedPairs[s] / params.topK; }
  for (var s = 0u; s < 2u; s++) {
    let n = bRow(li) + 64u * s;
    units[s] = i0 + 2u * (n / 4u) + n % 2u;
    bankRows[s] = select(units[s], units[s] + I, n % 4u >= 2u);
  }
  var acc: Accumulators;
  let kBegin = wid.z * params.kChunk; // wid.z, not the private `chunk`: a barrier's loop bounds must be uniform
  multiplyTiles(&acc, &xTile, &gateUpTile, kBegin, min(H, kBegin + params.kChunk), count, li, local);
  storeAccumulators(&acc, local);
}
