// Merges the partial softmaxes of split decode attention (attention.wgsl with S > 1): for each query row
// (t · heads + h), S partial rows of [dv + 2] (Σ exp(score − m_s) · v, m_s, Σ exp(score − m_s)) become
//   out[row, i] = Σ_s exp(m_s − M) · acc_s[i] / Σ_s exp(m_s − M) · sum_s,   M = max_s m_s
// One workgroup per row; each thread merges value dims lid, lid + 64, … and recomputes the S weights
// itself (2S reads of L2-resident floats, cheaper than a workgroup reduction).

struct Params {
  rows: u32,       // T · heads
  splits: u32,     // S
  valueDim: u32,   // dv
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> partials: array<f32>;   // [rows, S, dv + 2]
@group(0) @binding(2) var<storage, read_write> out: array<f32>;  // [rows, dv]

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) groups: vec3u, @builtin(local_invocation_index) lid: u32) {
  let r = wid.x + wid.y * groups.x;
  if (r >= params.rows) { return; }
  let dv = params.valueDim;
  let S = params.splits;
  let base = r * S * (dv + 2u);
  var m = -0x1.fffffep+127f;
  for (var s = 0u; s < S; s++) { m = max(m, partials[base + s * (dv + 2u) + dv]); }
  var denominator = 0.0;
  for (var s = 0u; s < S; s++) {
    let row = base + s * (dv + 2u);
    denominator += exp(partials[row + dv] - m) * partials[row + dv + 1u];
  }
  for (var i = lid; i < dv; i += 64u) {
    var sum = 0.0;
    for (var s = 0u; s < S; s++) {
      let row = base + s * (dv + 2u);
      sum += exp(partials[row + dv] - m) * partials[row + i];
    }
    out[r * dv + i] = sum / denominator;
  }
}
