// Included by the shaders that add up a split multiply's partial sums (matmul.wgsl's SPLIT_PHASE 2,
// qkv_finish.wgsl). The including shader declares `partials: array<vec4<f32>>` ([S, T, N / 4] f32, the
// chunks `stride` vec4s apart) and a Params with `splits` (S).

const MAX_SPLITS: u32 = 16u; // layers.ts SPLIT_MAX

/** Σ_z partials[z · stride + v] over the S chunks: the loop counts to a constant so that all S loads are in flight before the first add. */
fn sumOfPartials(v: u32, stride: u32) -> vec4<f32> {
  var sum = vec4<f32>(0.0);
  for (var z = 0u; z < MAX_SPLITS; z++) {
    if (z < params.splits) { sum += partials[z * stride + v]; }
  }
  return sum;
}
