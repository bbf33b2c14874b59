// Linear layers for a few tokens (decode), when every weight row starts on a 16-byte boundary (K a multiple
// of 8 for bf16/f16 weights, of 4 for f32):
//   y[t, offset + n] = x[t, :] · W[n, :] (+ b[n])      for t < T ≤ MAX_TOKENS
// ROWS output rows per workgroup, LANES threads per row. Each thread reads 16 bytes of weights at a time
// (8 bf16/f16 or 4 f32 values, unpacked in registers), neighbouring lanes neighbouring words, so a row is
// streamed in wide coalesced loads; the lanes' partial sums meet in workgroup memory once per token.
// Each weight is read once for all T tokens. matvec.wgsl serves rows that are not 16-byte aligned.

#include "weights"

struct Params {
  numTokens: u32,   // T ≤ MAX_TOKENS
  numOutputs: u32,  // N
  inputs: u32,      // K
  outStride: u32,   // elements per row of y
  outOffset: u32,   // column of y for output 0
  hasBias: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<vec4<f32>>;     // [T, K/4]
@group(0) @binding(2) var<storage, read> w: array<vec4<u32>>;     // [N, K] packed, 16 bytes per load
@group(0) @binding(3) var<storage, read> b: array<u32>;           // [N] packed (bound to w when unused)
@group(0) @binding(4) var<storage, read_write> y: array<f32>;     // [T, outStride] f32

const LANES: u32 = 32u;
const ROWS: u32 = 8u;
const MAX_TOKENS: u32 = 8u;

var<workgroup> sums: array<f32, 256>; // LANES × ROWS

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) groups: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let lane = lid % LANES;
  let row = lid / LANES;
  let n = (wid.x + wid.y * groups.x) * ROWS + row;
  let valid = n < params.numOutputs;
  let quarterK = params.inputs / 4u;                         // vec4s of x per token
  let words = params.inputs / valuesPerWord();              // vec4<u32> per weight row
  let xPerWord = valuesPerWord() / 4u;                      // vec4s of x per weight word
  var acc: array<f32, MAX_TOKENS>;
  for (var t = 0u; t < MAX_TOKENS; t++) { acc[t] = 0.0; }
  if (valid) {
    for (var c = lane; c < words; c += LANES) {
      let word = w[n * words + c];
      for (var t = 0u; t < params.numTokens; t++) {
        let xi = t * quarterK + xPerWord * c;
        acc[t] += dotWord(word, x[xi], x[min(xi + 1u, xi + xPerWord - 1u)]);
      }
    }
  }
  var bias = 0.0;
  if (valid && params.hasBias == 1u) { bias = weightValue(b[weightWord(n)], n); }
  for (var t = 0u; t < params.numTokens; t++) {
    sums[lid] = acc[t];
    workgroupBarrier();
    if (valid && lane == 0u) {
      var total = 0.0;
      for (var i = 0u; i < LANES; i++) { total += sums[row * LANES + i]; }
      y[t * params.outStride + params.outOffset + n] = total + bias;
    }
    workgroupBarrier();
  }
}
