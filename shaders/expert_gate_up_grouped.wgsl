// Prefill gate/up + SwiGLU as one grouped matrix multiply. Workgroup (output tile x, tile y of some expert
// e's pairs: expert_tiles.wgsl) computes 32 of e's pairs (from the list sorted by expert) × 64 of its I
// intermediate units, tiled like matmul.wgsl (tile_multiply): the 128 weight rows of a tile are the gate
// and up rows of those 64 units, interleaved so that each group of four rows a thread owns is gate i,
// gate i+1, up i, up i+1 and it can apply SwiGLU to its own accumulators.
//   hidden[p, i] = silu(W_gate[e] x_t)[i] · (W_up[e] x_t)[i],   t = p / k
// With GATE_ONLY (the expert probe's intermediate states) it writes silu(W_gate[e] x_t)[i] alone.

#include "weights"

override GATE_ONLY: bool = false;

struct Params {
  hidden: u32,        // H
  width: u32,         // I
  topK: u32,          // k: pair p is token p / k
  transposed: u32,    // 0: [E, 2I, H]; 1: [E, H, 2I]
  numExperts: u32,    // E
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<vec4<f32>>;         // [T, H] f32
@group(0) @binding(2) var<storage, read> offsets: array<u32>;         // expert_tiles.wgsl
@group(0) @binding(3) var<storage, read> sorted: array<u32>;          // [P]
@group(0) @binding(4) var<storage, read> w: array<vec4<u32>>;         // gate|up bank, packed
@group(0) @binding(5) var<storage, read_write> hiddenOut: array<f32>; // [P, I]

#include "tile_multiply"
var<workgroup> xTile: ATile;      // pairs
var<workgroup> gateUpTile: BTile; // gate and up rows, interleaved

#include "expert_layout"
#include "expert_tiles"

var<private> expert: u32;
fn weightIndex(row: u32, input: u32) -> u32 { return gateUpIndex(expert, row, input); }

var<private> pairOk: bool;              // the pair this thread stages (row aRow of the tile)
var<private> token: u32;
var<private> units: array<u32, 2>;      // the weight rows it stages (rows bRow, bRow + 64): a unit's gate or up row
var<private> bankRows: array<u32, 2>;
fn loadStep(k: u32) {
  let H = params.hidden;
  aStaged = loadActivations(pairOk, token * H, k, H);
  for (var s = 0u; s < 2u; s++) { loadWeights(s, units[s] < params.width, bankRows[s], k, H); }
}

const UNITS: u32 = B_ROWS / 2u; // intermediate units per workgroup

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
  let i0 = wid.x * UNITS;

  // staged rows: pair r of the tile; tile row n is unit i0 + 2(n / 4) + n % 2, its gate row for
  // n % 4 < 2, else its up row
  let r = aRow(li);
  pairOk = r < count;
  token = 0u;
  if (pairOk) { token = sorted[begin + r] / params.topK; }
  for (var s = 0u; s < 2u; s++) {
    let n = bRow(li) + 64u * s;
    units[s] = i0 + 2u * (n / 4u) + n % 2u;
    bankRows[s] = select(units[s], units[s] + I, n % 4u >= 2u);
  }
  var acc: Accumulators; // [4j + a]: pair 4ty + a; gate, gate, up, up of units i0 + 32j + 2tx, +1
  multiplyTiles(&acc, &xTile, &gateUpTile, 0u, H, count, li, local);
  for (var j = 0u; j < 2u; j++) {
    for (var a = 0u; a < 4u; a++) {
      let p = 4u * local.y + a;
      for (var u = 0u; u < 2u; u++) {
        let i = i0 + 32u * j + 2u * local.x + u;
        if (p < count && i < I) {
          let gate = acc[4u * j + a][u];
          let silu = gate / (1.0 + exp(-gate));
          hiddenOut[sorted[begin + p] * I + i] = select(silu * acc[4u * j + a][u + 2u], silu, GATE_ONLY);
        }
      }
    }
  }
}
