// Linear layers for a few tokens (decode), when every weight row starts on a 16-byte boundary (K a multiple
// of 8 for bf16/f16 weights, of 4 for f32):
//   y[t, offset + n] = x[t, :] · W[n, :] (+ b[n])      for t < T ≤ MAX_TOKENS (y: see linear_output)
// ROWS output rows per workgroup, LANES threads per row. Each thread reads 16 bytes of weights at a time
// (8 bf16/f16 or 4 f32 values, unpacked in registers), neighbouring lanes neighbouring words, so a row is
// streamed in wide coalesced loads; the lanes' partial sums meet once per token (row_reduce).
// Each weight is read once for all T tokens. matvec.wgsl serves rows that are not 16-byte aligned.

#include "weights"
#include "row_reduce"
#include "linear_output"

@group(0) @binding(1) var<storage, read> x: array<vec4<f32>>;     // [T, K/4]
@group(0) @binding(2) var<storage, read> w: array<vec4<u32>>;     // [N, K] packed, 16 bytes per load
@group(0) @binding(3) var<storage, read> b: array<u32>;           // [N] packed (bound to w when unused)

const MAX_TOKENS: u32 = 8u;

/** Token t's x against weight word c of a row (the 8 or 4 inputs that word covers). */
fn dotX(word: vec4<u32>, t: u32, c: u32) -> f32 {
  let xPerWord = valuesPerWord() / 4u;                      // vec4s of x per weight word
  let xi = t * (params.inputs / 4u) + xPerWord * c;
  return dotWord(word, x[xi], x[min(xi + 1u, xi + xPerWord - 1u)]);
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) groups: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let lane = lid % LANES;
  let row = lid / LANES;
  let n = (wid.x + wid.y * groups.x) * ROWS + row;
  let valid = n < params.numOutputs;
  let words = params.inputs / valuesPerWord();              // vec4<u32> per weight row
  var acc: array<f32, MAX_TOKENS>;
  for (var t = 0u; t < MAX_TOKENS; t++) { acc[t] = 0.0; }
  if (valid) {
    let rowBase = n * words;
    var c = lane;
    // four words per lane in flight at a time: decode has few rows, so each thread must keep several
    // loads outstanding for the weights to stream at memory speed
    for (; c + 3u * LANES < words; c += 4u * LANES) {
      let w0 = w[rowBase + c];
      let w1 = w[rowBase + c + LANES];
      let w2 = w[rowBase + c + 2u * LANES];
      let w3 = w[rowBase + c + 3u * LANES];
      for (var t = 0u; t < params.numTokens; t++) {
        acc[t] += dotX(w0, t, c) + dotX(w1, t, c + LANES) + dotX(w2, t, c + 2u * LANES) + dotX(w3, t, c + 3u * LANES);
      }
    }
    for (; c < words; c += LANES) {
      let word = w[rowBase + c];
      for (var t = 0u; t < params.numTokens; t++) { acc[t] += dotX(word, t, c); }
    }
  }
  var bias = 0.0;
  if (valid && params.hasBias == 1u) { bias = weightValue(b[weightWord(n)], n); }
  for (var t = 0u; t < params.numTokens; t++) {
    let total = rowSum(lid, acc[t]);
    if (valid && lane == 0u) { storeOutput(t, n, total + bias); }
  }
}
