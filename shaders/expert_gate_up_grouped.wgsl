// Prefill gate/up + SwiGLU as one grouped matrix multiply. Workgroup (output tile x, pair tile y, expert z)
// computes 64 of expert e's pairs (from the list sorted by expert) × 64 of its I output rows, tiled like
// matmul.wgsl: per step of 16 inputs the pairs' inputs and the gate and up weight tiles are staged in
// workgroup memory (weights unpacked to f32); each of the 16 × 16 threads accumulates 4 pairs × 4 rows of
// both projections in registers.
//   hidden[p, i] = silu(W_gate[e] x_t)[i] · (W_up[e] x_t)[i],   t = p / k
// With GATE_ONLY (the expert probe's intermediate states) it writes silu(W_gate[e] x_t)[i] alone.

#include "weights"

override GATE_ONLY: bool = false;

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

#include "tile_multiply"
var<workgroup> xTile: Tile;    // [pair][input]
var<workgroup> gateTile: Tile; // [row][input]
var<workgroup> upTile: Tile;

#include "expert_layout"

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) local: vec3u,
        @builtin(local_invocation_index) li: u32) {
  let e = wid.z;
  let begin = offsets[e] + wid.y * TILE;
  let end = min(offsets[e + 1u], begin + TILE);
  if (begin >= end) { return; }            // uniform: the whole workgroup leaves
  let count = end - begin;
  let H = params.hidden;
  let I = params.width;
  let i0 = wid.x * TILE;

  var g: array<f32, 16>; // [a][b]: pair ty + 16a, row tx + 16b
  var u: array<f32, 16>;
  for (var n = 0u; n < 16u; n++) { g[n] = 0.0; u[n] = 0.0; }
  for (var k0 = 0u; k0 < H; k0 += STEP) {
    for (var j = 0u; j < 4u; j++) {
      let s = li + 256u * j;
      let r = s / STEP;
      let c = s % STEP;
      let k = k0 + c;
      var xv = 0.0;
      if (r < count && k < H) { xv = x[(sorted[begin + r] / params.topK) * H + k]; }
      xTile[r][c] = xv;
      var gv = 0.0;
      var uv = 0.0;
      if (i0 + r < I && k < H) {
        let gi = gateUpIndex(e, i0 + r, k);
        let ui = gateUpIndex(e, i0 + r + I, k);
        gv = weightValue(gateUp[weightWord(gi)], gi);
        uv = weightValue(gateUp[weightWord(ui)], ui);
      }
      gateTile[r][c] = gv;
      upTile[r][c] = uv;
    }
    workgroupBarrier();
    accumulateTile(&g, &xTile, &gateTile, local);
    accumulateTile(&u, &xTile, &upTile, local);
    workgroupBarrier();
  }
  for (var a = 0u; a < 4u; a++) {
    let r = local.y + 16u * a;
    for (var b = 0u; b < 4u; b++) {
      let i = i0 + local.x + 16u * b;
      if (r < count && i < I) {
        let gate = g[a * 4u + b];
        let silu = gate / (1.0 + exp(-gate));
        hiddenOut[sorted[begin + r] * I + i] = select(silu * u[a * 4u + b], silu, GATE_ONLY);
      }
    }
  }
}
