// y[t, offset + n] = x[t, :] · W[n, :] (+ b[n]) (y: see linear_output) for one weight piece: the linear layers, the router and
// the LM head over many tokens (prefill). W rows are outputs (PyTorch's nn.Linear layout), stored packed
// in WEIGHT_DTYPE.
// Tiled (tile_multiply): a workgroup computes a 32-token × 128-output block of y; each of its 16 × 8
// threads accumulates 4 tokens × 8 outputs in registers over steps of 16 inputs staged in workgroup memory.

#include "weights"
#include "linear_output"

@group(0) @binding(1) var<storage, read> x: array<vec4<f32>>;     // [T, K] f32
@group(0) @binding(2) var<storage, read> w: array<vec4<u32>>;     // [N, K] packed
@group(0) @binding(3) var<storage, read> b: array<u32>;           // [N] packed (bound to w when unused)

#include "tile_multiply"
var<workgroup> xTile: ATile; // tokens
var<workgroup> wTile: BTile; // outputs

fn weightIndex(row: u32, input: u32) -> u32 { return row * params.inputs + input; }

var<private> token: u32;              // the token this thread stages (row aRow of the tile)
var<private> outputs: array<u32, 2>;  // the weight rows it stages (rows bRow, bRow + 64)
fn loadStep(k: u32) {
  let K = params.inputs;
  aStaged = loadActivations(token < params.numTokens, token * K, k, K);
  for (var s = 0u; s < 2u; s++) { loadWeights(s, outputs[s] < params.numOutputs, outputs[s], k, K); }
}

@compute @workgroup_size(16, 8)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) local: vec3u,
        @builtin(local_invocation_index) li: u32) {
  let T = params.numTokens;
  let N = params.numOutputs;
  let K = params.inputs;
  let t0 = wid.y * A_ROWS;
  let n0 = wid.x * B_ROWS;
  token = t0 + aRow(li);
  for (var s = 0u; s < 2u; s++) { outputs[s] = n0 + bRow(li) + 64u * s; }
  var acc: Accumulators; // [4j + i]: token t0 + 4ty + i, outputs n0 + 64j + 4tx … +3
  multiplyTiles(&acc, &xTile, &wTile, K, li, local);
  for (var j = 0u; j < 2u; j++) {
    for (var i = 0u; i < 4u; i++) {
      let ti = t0 + 4u * local.y + i;
      for (var c = 0u; c < 4u; c++) {
        let nj = n0 + 64u * j + 4u * local.x + c;
        if (ti < T && nj < N) {
          var bias = 0.0;
          if (params.hasBias == 1u) { bias = weightValue(b[weightWord(nj)], nj); }
          storeOutput(ti, nj, acc[4u * j + i][c] + bias);
        }
      }
    }
  }
}
