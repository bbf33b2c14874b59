// Linear layers for a few tokens (decode): one workgroup per output row n, its threads striding over
// the K inputs so that neighbouring threads read neighbouring weights, then a workgroup sum:
//   y[t, offset + n] = x[t, :] · W[n, :] (+ b[n])      for t < T ≤ MAX_TOKENS (y: see linear_output)
// Each weight is read once for all T tokens. Prefill (many tokens) uses matmul.wgsl.

#include "weights"
#include "linear_output"

@group(0) @binding(1) var<storage, read> x: array<f32>;           // [T, K] f32
@group(0) @binding(2) var<storage, read> w: array<u32>;           // [N, K] packed
@group(0) @binding(3) var<storage, read> b: array<u32>;           // [N] packed (bound to w when unused)

const WORKGROUP_SIZE: u32 = 64u;
const MAX_TOKENS: u32 = 8u;
#include "workgroup_reduce"

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) groups: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let n = wid.x + wid.y * groups.x;
  if (n >= params.numOutputs) { return; }
  let K = params.inputs;
  var acc: array<f32, MAX_TOKENS>;
  for (var t = 0u; t < MAX_TOKENS; t++) { acc[t] = 0.0; }
  for (var k = lid; k < K; k += WORKGROUP_SIZE) {
    let i = n * K + k;
    let weight = weightValue(w[weightWord(i)], i);
    for (var t = 0u; t < params.numTokens; t++) { acc[t] += weight * x[t * K + k]; }
  }
  var bias = 0.0;
  if (params.hasBias == 1u) { bias = weightValue(b[weightWord(n)], n); }
  for (var t = 0u; t < params.numTokens; t++) {
    let total = workgroupSum(lid, acc[t]);
    if (lid == 0u) { storeOutput(t, n, total + bias); }
  }
}
