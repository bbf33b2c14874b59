// Included by the one-token kernels that take their block's RMSNorm on read, which saves the norm's own
// dispatch: matvec_rows (NORM) and expert_gate_up_rows (ROUTE). Every workgroup computes
//   h = RMSNorm(v) · normWeight      (v: the row as normSource gives it)
// into workgroup memory before its own rows: the row is a few KB, read from cache.
// The including shader declares WORKGROUP_SIZE, includes weights and workgroup_reduce, binds the norm weight
// `normWeight: array<u32>` (packed in WEIGHT_DTYPE) and defines `normSource(i) -> vec4<f32>`, values 4i … 4i+3 of v.

override NORMED_VEC4S: u32 = 1u;                        // the row's length / 4
var<workgroup> normed: array<vec4<f32>, NORMED_VEC4S>;  // h [K/4]

/** The norm weight's values 4q … 4q+3. */
fn normWeightQuad(q: u32) -> vec4<f32> {
  var g: vec4<f32>;
  for (var j = 0u; j < 4u; j++) { g[j] = weightValue(normWeight[weightWord(4u * q + j)], 4u * q + j); }
  return g;
}

/**
 * normed = RMSNorm(v) · normWeight over the row's `inputs` values, visible to the whole workgroup on return;
 * returns the norm's scale, 1 / sqrt(mean(v²) + eps).
 */
fn stageNormed(lid: u32, inputs: u32, eps: f32) -> f32 {
  let quads = inputs / 4u;
  var squares = 0.0;
  // the norm weight is read with the row (RMSNorm(v) · g = (v · g) · inv): its loads do not wait for the sum
  for (var i = lid; i < quads; i += WORKGROUP_SIZE) {
    let v = normSource(i);
    normed[i] = v * normWeightQuad(i);
    squares += dot(v, v);
  }
  let inv = inverseSqrt(workgroupSum(lid, squares) / f32(inputs) + eps);
  for (var i = lid; i < quads; i += WORKGROUP_SIZE) { normed[i] *= inv; }
  workgroupBarrier();
  return inv;
}
