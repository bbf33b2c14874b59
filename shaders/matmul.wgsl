// y[t, offset + n] = x[t, :] · W[n, :] (+ b[n]) (y: see linear_output) for one weight piece: the linear layers, the router and
// the LM head over many tokens (prefill). W rows are outputs (PyTorch's nn.Linear layout), stored packed
// in WEIGHT_DTYPE.
// Tiled (tile_multiply): a workgroup computes a 64-token × 64-output block of y; each of its 16 × 16
// threads accumulates 4 tokens × 4 outputs in registers over steps of 32 inputs staged in workgroup memory.

#include "weights"
#include "linear_output"

@group(0) @binding(1) var<storage, read> x: array<vec4<f32>>;     // [T, K] f32
@group(0) @binding(2) var<storage, read> w: array<vec4<u32>>;     // [N, K] packed
@group(0) @binding(3) var<storage, read> b: array<u32>;           // [N] packed (bound to w when unused)

#include "tile_multiply"
var<workgroup> xTile: Tile; // tokens
var<workgroup> wTile: Tile; // outputs

fn weightIndex(row: u32, input: u32) -> u32 { return row * params.inputs + input; }

var<private> tokens: array<u32, 2>; // the tokens this thread stages (rows aRow, aRow + 32 of the tile)
var<private> output: u32;          // the weight row it stages (row bRow)
fn loadStep(k: u32) {
  let K = params.inputs;
  for (var r = 0u; r < 2u; r++) { aStaged[r] = loadActivations(tokens[r] < params.numTokens, tokens[r] * K, k, K); }
  loadWeights(output < params.numOutputs, output, k, K);
}

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) local: vec3u,
        @builtin(local_invocation_index) li: u32) {
  let T = params.numTokens;
  let N = params.numOutputs;
  let K = params.inputs;
  let t0 = wid.y * TILE;
  let n0 = wid.x * TILE;
  for (var r = 0u; r < 2u; r++) { tokens[r] = t0 + aRow(li) + 32u * r; }
  output = n0 + bRow(li);
  var acc: array<vec4<f32>, 4>; // [i][j]: token t0 + 4ty + i, output n0 + 4tx + j
  multiplyTiles(&acc, &xTile, &wTile, K, li, local);
  for (var i = 0u; i < 4u; i++) {
    let ti = t0 + 4u * local.y + i;
    for (var j = 0u; j < 4u; j++) {
      let nj = n0 + 4u * local.x + j;
      if (ti < T && nj < N) {
        var bias = 0.0;
        if (params.hasBias == 1u) { bias = weightValue(b[weightWord(nj)], nj); }
        storeOutput(ti, nj, acc[i][j] + bias);
      }
    }
  }
}
