// y[t, offset + n] = x[t, :] · W[n, :] (+ b[n]) for one weight piece: the linear layers, the router and
// the LM head over many tokens (prefill). W rows are outputs (PyTorch's nn.Linear layout), stored packed
// in WEIGHT_DTYPE.
// Tiled: a workgroup computes a 64-token × 64-output block of y. Per step of 16 inputs it stages the x and
// W tiles (64 × 16 each, W unpacked to f32) in workgroup memory; each of its 16 × 16 threads then
// accumulates 4 tokens × 4 outputs in registers, so every staged value is used 4 times per thread and
// 64 times per workgroup. Threads take tokens ty + 16i and outputs tx + 16j (rows of the tiles padded to
// 17) so that neighbouring threads read different memory banks.

#include "weights"

struct Params {
  numTokens: u32,     // T
  numOutputs: u32,    // N, rows of this weight piece
  inputs: u32,        // K, elements per input row and per weight row
  outStride: u32,     // elements per row of y (≥ offset + N)
  outOffset: u32,     // column of y that output 0 goes to (pieces of a split weight)
  hasBias: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;           // [T, K] f32
@group(0) @binding(2) var<storage, read> w: array<u32>;           // [N, K] packed
@group(0) @binding(3) var<storage, read> b: array<u32>;           // [N] packed (bound to w when unused)
@group(0) @binding(4) var<storage, read_write> y: array<f32>;     // [T, outStride] f32

#include "tile_multiply"
var<workgroup> xTile: Tile; // [token][input]
var<workgroup> wTile: Tile; // [output][input]

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) local: vec3u,
        @builtin(local_invocation_index) li: u32) {
  let T = params.numTokens;
  let N = params.numOutputs;
  let K = params.inputs;
  let t0 = wid.y * TILE;
  let n0 = wid.x * TILE;
  var acc: array<f32, 16>; // [i][j]: token ty + 16i, output tx + 16j
  for (var i = 0u; i < 16u; i++) { acc[i] = 0.0; }
  for (var k0 = 0u; k0 < K; k0 += STEP) {
    // stage: 1,024 values of each tile, 4 per thread
    for (var j = 0u; j < 4u; j++) {
      let e = li + 256u * j;
      let r = e / STEP;
      let c = e % STEP;
      let k = k0 + c;
      var xv = 0.0;
      if (t0 + r < T && k < K) { xv = x[(t0 + r) * K + k]; }
      xTile[r][c] = xv;
      var wv = 0.0;
      if (n0 + r < N && k < K) {
        let at = (n0 + r) * K + k;
        wv = weightValue(w[weightWord(at)], at);
      }
      wTile[r][c] = wv;
    }
    workgroupBarrier();
    accumulateTile(&acc, &xTile, &wTile, local);
    workgroupBarrier();
  }
  for (var i = 0u; i < 4u; i++) {
    let t = t0 + local.y + 16u * i;
    for (var j = 0u; j < 4u; j++) {
      let n = n0 + local.x + 16u * j;
      if (t < T && n < N) {
        var bias = 0.0;
        if (params.hasBias == 1u) { bias = weightValue(b[weightWord(n)], n); }
        y[t * params.outStride + params.outOffset + n] = acc[i * 4u + j] + bias;
      }
    }
  }
}
