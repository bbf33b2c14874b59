// y[t, offset + n] = x[t, :] · W[n, :] (+ b[n]) for one weight piece: the linear layers, the router and
// the LM head. W rows are outputs (PyTorch's nn.Linear layout), stored packed in WEIGHT_DTYPE.
// One thread per output; a workgroup covers WORKGROUP_SIZE outputs of one token.

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

override WORKGROUP_SIZE: u32 = 64;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let n = gid.x;
  let t = gid.y;
  if (n >= params.numOutputs || t >= params.numTokens) { return; }
  let K = params.inputs;
  var acc = 0.0;
  let xBase = t * K;
  let wBase = n * K;
  for (var k = 0u; k < K; k++) {
    let i = wBase + k;
    acc += x[xBase + k] * weightValue(w[weightWord(i)], i);
  }
  if (params.hasBias == 1u) { acc += weightValue(b[weightWord(n)], n); }
  y[t * params.outStride + params.outOffset + n] = acc;
}
