// The expert probe's summary of all experts' outputs for one token: the E×E Gram matrix of the outputs
// (dot products; the diagonal holds squared norms, cosines follow on the host). Workgroup (i, t): thread j
// of 64 strides over the experts j, j + 64, …
//   gram[t, i, j] = Σ_h y[t, i, h] · y[t, j, h]

const WORKGROUP_SIZE: u32 = 64u;

struct Params {
  experts: u32, // E
  hidden: u32,  // H
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> y: array<f32>;             // [T, E, H] every expert's output
@group(0) @binding(2) var<storage, read_write> gram: array<f32>;    // [T, E, E]

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) local: vec3u) {
  let E = params.experts;
  let H = params.hidden;
  let i = wid.x;
  let t = wid.y;
  let rowI = (t * E + i) * H;
  for (var j = local.x; j < E; j += WORKGROUP_SIZE) {
    let rowJ = (t * E + j) * H;
    var s = 0.0;
    for (var h = 0u; h < H; h++) { s += y[rowI + h] * y[rowJ + h]; }
    gram[(t * E + i) * E + j] = s;
  }
}
