// y[t, offset + n] = x[t, :] · W[n, :] (+ b[n]) (y: see linear_output) for one weight piece: the linear layers, the router and
// the LM head over many tokens (prefill). W rows are outputs (PyTorch's nn.Linear layout), stored packed
// in WEIGHT_DTYPE.
// Tiled (tile_multiply_64): a workgroup computes a 64-token × 128-output block of y; each of its 16 × 8
// threads accumulates 8 tokens × 8 outputs in registers over steps of 16 inputs staged in workgroup memory.
// Split over the inputs where the tiles are too few to fill the GPU (a 512-token prefill's o_proj has 256;
// the same multiply over 2,048 tokens ran 1.3× faster per FLOP on an H100): with SPLIT_PHASE = 1 workgroup
// z multiplies inputs z · kChunk … into partials[z] (no bias); a second dispatch with SPLIT_PHASE = 2 sums
// the S partials, adds the bias and writes y: one thread per four consecutive outputs (a vec4: the host
// splits only multiplies with N % 4 == 0), its S loads all in flight before the first add (phase 1 still
// stores one by one, 1% faster than as a vec4 on an H100).

#include "weights"
#include "linear_output"

@group(0) @binding(1) var<storage, read> x: array<vec4<f32>>;     // [T, K] f32
@group(0) @binding(2) var<storage, read> w: array<vec4<u32>>;     // [N, K] packed
@group(0) @binding(3) var<storage, read> b: array<u32>;           // [N] packed (bound to w when unused)
@group(0) @binding(7) var<storage, read_write> partials: array<vec4<f32>>; // [S, T, N / 4] f32 (SPLIT_PHASE 1 and 2; else a placeholder)

override SPLIT_PHASE: u32 = 0u; // 0: all inputs, into y; 1: inputs of chunk z, into partials[z]; 2: Σ_z partials[z], into y

#include "tile_multiply_64"
var<workgroup> xTile: ATile; // tokens
var<workgroup> wTile: BTile; // outputs

fn weightIndex(row: u32, input: u32) -> u32 { return row * params.inputs + input; }

var<private> tokens: array<u32, 2>;   // the tokens this thread stages (aStagedRow)
var<private> outputs: array<u32, 2>;  // the weight rows it stages (rows bRow, bRow + 64)
fn loadStep(k: u32) {
  let K = params.inputs;
  for (var s = 0u; s < 2u; s++) { aStaged[s] = loadActivations(tokens[s] < params.numTokens, tokens[s] * K, k, K); }
  for (var s = 0u; s < 2u; s++) { loadWeights(s, outputs[s] < params.numOutputs, outputs[s], k, K); }
}

fn bias(n: u32) -> f32 {
  if (params.hasBias == 1u) { return weightValue(b[weightWord(n)], n); }
  return 0.0;
}

#include "split_partials"

/** Phase 2: thread `li` of workgroup `g` (128 threads) sums vec4 number g · 128 + li of y over the S partials. */
fn sumPartials(g: u32, li: u32) {
  let N4 = params.numOutputs / 4u;
  let T = params.numTokens;
  let v = g * 128u + li;
  if (v >= T * N4) { return; }
  let sum = sumOfPartials(v, T * N4);
  let t = v / N4;
  let n = 4u * (v % N4);
  for (var c = 0u; c < 4u; c++) { storeOutput(t, n + c, sum[c] + bias(n + c)); }
}

var<private> t0: u32;    // the tile's first token, first output, and input chunk (SPLIT_PHASE 1)
var<private> n0: u32;
var<private> chunk: u32;
/** Tile row `row` against outputs col … col + 3 (tile_multiply_64's storeAccumulators). */
fn storeAccumulator(v: vec4<f32>, row: u32, col: u32) {
  let T = params.numTokens;
  let N = params.numOutputs;
  let t = t0 + row;
  for (var c = 0u; c < 4u; c++) {
    let n = n0 + col + c;
    if (t < T && n < N) {
      if (SPLIT_PHASE == 1u) {
        partials[((chunk * T + t) * N + n) / 4u][c] = v[c];
      } else {
        storeOutput(t, n, v[c] + bias(n));
      }
    }
  }
}

@compute @workgroup_size(16, 8)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) groups: vec3u,
        @builtin(local_invocation_id) local: vec3u, @builtin(local_invocation_index) li: u32) {
  if (SPLIT_PHASE == 2u) {
    sumPartials(wid.x + wid.y * groups.x, li);
    return;
  }
  let K = params.inputs;
  t0 = wid.y * A_ROWS;
  n0 = wid.x * B_ROWS;
  chunk = wid.z;
  var acc: Accumulators; // [8h + 4j + i]: token t0 + 4ty + 32h + i, outputs n0 + 64j + 4tx … +3
  for (var s = 0u; s < 2u; s++) {
    tokens[s] = t0 + aStagedRow(li, s);
    outputs[s] = n0 + bRow(li) + 64u * s;
  }
  let kBegin = wid.z * params.kChunk; // wid.z, not the private `chunk`: a barrier's loop bounds must be uniform
  // every row counts as filled: the only part-filled tile is a prompt's last
  multiplyTiles(&acc, &xTile, &wTile, kBegin, min(K, kBegin + params.kChunk), A_ROWS, li, local);
  storeAccumulators(&acc, local);
}
