// A decode layer's post-attention RMSNorm and router folded through its attention output projection, so
// that the router runs inside o_proj's dispatch (matvec_rows' ROUTER_FOLD) instead of a dispatch of its own.
// With x' = x + rs · (pending + W_o · attn) the stream after o_proj (rs: the residual multiplier):
//   router logits = W_router · (RMSNorm(x') · g) = inv(x') · (A · (x + rs · pending) + rs · B · attn)
//   A = W_router · diag(g)  [E, H],   B = A · W_o  [E, K]
// inv(x') > 0 scales every logit alike, so the experts' order is the raw logits'; the experts' gate/up
// dispatch, which takes the norm on read, applies it (expert_gate_up_rows' ROUTE = 2).
// This kernel writes fold[e] = [A[e] ; B[e]]  [E, H + K] f32, once per layer.

struct Params {
  numExperts: u32,  // E
  hidden: u32,      // H
  inputs: u32,      // K, o_proj's inputs (attention heads · head dim)
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> router: array<u32>;        // [E, H] packed
@group(0) @binding(2) var<storage, read> normWeight: array<u32>;    // [H] packed
@group(0) @binding(3) var<storage, read> oProj: array<u32>;         // [H, K] packed
@group(0) @binding(4) var<storage, read_write> fold: array<f32>;    // [E, H + K] f32

#include "weights"

/** A[e, h] = W_router[e, h] · g[h]. */
fn folded(e: u32, h: u32) -> f32 {
  let i = e * params.hidden + h;
  return weightValue(router[weightWord(i)], i) * weightValue(normWeight[weightWord(h)], h);
}

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let e = gid.y;
  let j = gid.x;
  let H = params.hidden;
  let K = params.inputs;
  if (j < H) {
    fold[e * (H + K) + j] = folded(e, j);
  } else if (j < H + K) {
    let c = j - H;
    var sum = 0.0;
    for (var h = 0u; h < H; h++) {
      let i = h * K + c;
      sum += folded(e, h) * weightValue(oProj[weightWord(i)], i);
    }
    fold[e * (H + K) + j] = sum;
  }
}
