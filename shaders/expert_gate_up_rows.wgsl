// expert_gate_up.wgsl for banks stored [E, 2I, H] with rows on 16-byte boundaries (H a multiple of 8 for
// bf16/f16, of 4 for f32): ROWS rows i per workgroup for one (token, slot) pair, LANES threads per row,
// each streaming the gate row i and the up row I + i of the chosen expert 16 bytes per load.
//   hidden[p, i] = silu(W_gate[e] x_t)[i] · (W_up[e] x_t)[i],   e = expertIds[p], t = p / k

#include "weights"
#include "row_reduce"

struct Params {
  numPairs: u32,     // T · k
  topK: u32,         // k: pairs per token
  hidden: u32,       // H
  width: u32,        // I, expert intermediate size
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<vec4<f32>>;       // [T, H/4]
@group(0) @binding(2) var<storage, read> expertIds: array<u32>;     // [T · k] u32
@group(0) @binding(3) var<storage, read> gateUp: array<vec4<u32>>;  // [E, 2I, H] packed
@group(0) @binding(4) var<storage, read_write> hiddenOut: array<f32>; // [T · k, I] f32

/** The token's x values weight word c covers (its row from vec4 xBase): two vec4s, or for f32 weights one (twice). */
struct XWord {
  lo: vec4<f32>,
  hi: vec4<f32>,
}
fn xWord(xBase: u32, c: u32) -> XWord {
  let xPerWord = valuesPerWord() / 4u;
  let xi = xBase + xPerWord * c;
  return XWord(x[xi], x[min(xi + 1u, xi + xPerWord - 1u)]);
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let lane = lid % LANES;
  let i = wid.x * ROWS + lid / LANES;
  let p = wid.y + wid.z * 65535u;
  let valid = i < params.width && p < params.numPairs;
  let words = params.hidden / valuesPerWord();  // 16-byte words per row
  var g = 0.0;
  var u = 0.0;
  if (valid) {
    let e = expertIds[p];
    let xBase = (p / params.topK) * (params.hidden / 4u);
    let gateRow = (e * 2u * params.width + i) * words;
    let upRow = gateRow + params.width * words;
    var c = lane;
    // two words of each row per lane in flight (four loads), then the remainder
    for (; c + LANES < words; c += 2u * LANES) {
      let g0 = gateUp[gateRow + c];
      let u0 = gateUp[upRow + c];
      let g1 = gateUp[gateRow + c + LANES];
      let u1 = gateUp[upRow + c + LANES];
      let x0 = xWord(xBase, c);
      let x1 = xWord(xBase, c + LANES);
      g += dotWord(g0, x0.lo, x0.hi) + dotWord(g1, x1.lo, x1.hi);
      u += dotWord(u0, x0.lo, x0.hi) + dotWord(u1, x1.lo, x1.hi);
    }
    for (; c < words; c += LANES) {
      let xw = xWord(xBase, c);
      g += dotWord(gateUp[gateRow + c], xw.lo, xw.hi);
      u += dotWord(gateUp[upRow + c], xw.lo, xw.hi);
    }
  }
  let gate = rowSum(lid, g);
  let up = rowSum(lid, u);
  if (valid && lane == 0u) { hiddenOut[p * params.width + i] = gate / (1.0 + exp(-gate)) * up; }
}
