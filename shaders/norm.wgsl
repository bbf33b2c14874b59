// RMSNorm or LayerNorm over each row of x, one workgroup per row:
//   rms:   y = x / sqrt(mean(x²) + eps) · w
//   layer: y = (x − mean(x)) / sqrt(var(x) + eps) · w + b
// Rows are tokens for the block norms, (token, head) pairs for per-head q/k norms.
// With hasResidual = 1 the residual add that precedes a block norm comes first, in the same pass:
//   x = x + r · residualScale (written back), then y = norm(x).
// y is then multiplied by outScale (1 but for the final norm of a model with logits_scaling).

#include "weights"

struct Params {
  numRows: u32,   // R
  width: u32,     // N, elements per row
  eps: f32,
  layerNorm: u32, // 1: LayerNorm (centre, and add bias when hasBias); 0: RMSNorm
  hasBias: u32,
  rowStride: u32, // elements between rows of x (≥ N: normalise the first N of wider rows)
  hasResidual: u32,
  residualScale: f32,
  outOffset: u32, // element of y where row 0 goes
  weightOffset: u32, // element of weight (and bias) where this norm's N values begin (q and k norms share a buffer)
  outScale: f32,  // y times this (the final norm: 1 / logits_scaling, for an LM head without bias)
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> x: array<f32>;     // [R, rowStride] f32
@group(0) @binding(2) var<storage, read> weight: array<u32>;      // [N] packed WEIGHT_DTYPE
@group(0) @binding(3) var<storage, read> bias: array<u32>;        // [N] packed (bound to weight when unused)
@group(0) @binding(4) var<storage, read_write> y: array<f32>;     // [R, N] f32 from outOffset
@group(0) @binding(5) var<storage, read> r: array<f32>;           // [R, rowStride] f32 residual branch (placeholder when unused)

const WORKGROUP_SIZE: u32 = 256u; // a decode step has one row: enough threads that each reads a few values
#include "workgroup_reduce"

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) groups: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let row = wid.x + wid.y * groups.x;
  if (row >= params.numRows) { return; }
  let N = params.width;
  let base = row * params.rowStride;
  let outBase = params.outOffset + row * N;

  if (params.hasResidual == 1u) {
    // each thread updates the elements it reads below: no barrier needed
    for (var i = lid; i < N; i += WORKGROUP_SIZE) { x[base + i] += r[base + i] * params.residualScale; }
  }
  var mean = 0.0;
  if (params.layerNorm == 1u) {
    var s = 0.0;
    for (var i = lid; i < N; i += WORKGROUP_SIZE) { s += x[base + i]; }
    mean = workgroupSum(lid, s) / f32(N);
  }
  var sq = 0.0;
  for (var i = lid; i < N; i += WORKGROUP_SIZE) { let d = x[base + i] - mean; sq += d * d; }
  let inv = inverseSqrt(workgroupSum(lid, sq) / f32(N) + params.eps);

  for (var i = lid; i < N; i += WORKGROUP_SIZE) {
    let wi = params.weightOffset + i;
    var v = (x[base + i] - mean) * inv * weightValue(weight[weightWord(wi)], wi);
    if (params.hasBias == 1u) { v += weightValue(bias[weightWord(wi)], wi); }
    y[outBase + i] = v * params.outScale;
  }
}
