// Sampling one token from a row of logits in one workgroup, in transformers' order:
//   temperature → top-k → top-p → draw with the host's uniform number u ∈ [0, 1).
// top-k and top-p become value thresholds found by bisection (counts and masses are workgroup sums), so
// nothing is sorted; the draw walks the kept tokens in id order. Ties at a threshold are all kept.

struct Params {
  width: u32,        // V
  rowOffset: u32,    // which row of logits
  topK: u32,         // 0 = off
  temperature: f32,  // > 0
  topP: f32,         // 1 = off
  u: f32,            // uniform draw for this step, from the host's seeded generator
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> logits: array<f32>;     // [R, V] f32
@group(0) @binding(2) var<storage, read_write> id: array<u32>;   // [1] u32

const WORKGROUP_SIZE: u32 = 256u;
#include "workgroup_reduce"
const BISECTION_STEPS: u32 = 40u;
var<workgroup> chunkMass: array<f32, WORKGROUP_SIZE>;

fn scaled(i: u32) -> f32 {
  return logits[params.rowOffset * params.width + i] / params.temperature;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(local_invocation_index) lid: u32) {
  let V = params.width;
  var localMax = -0x1.fffffep+127f;
  var localMin = 0x1.fffffep+127f;
  for (var i = lid; i < V; i += WORKGROUP_SIZE) { localMax = max(localMax, scaled(i)); localMin = min(localMin, scaled(i)); }
  let top = workgroupMax(lid, localMax);
  let bottom = -workgroupMax(lid, -localMin);

  // top-k: the largest threshold that keeps at least k tokens
  var threshold = bottom;
  if (params.topK > 0u && params.topK < V) {
    var lo = bottom;
    var hi = top;
    for (var step = 0u; step < BISECTION_STEPS; step++) {
      let mid = lo + (hi - lo) * 0.5;
      var count = 0.0;
      for (var i = lid; i < V; i += WORKGROUP_SIZE) { count += select(0.0, 1.0, scaled(i) >= mid); }
      if (workgroupSum(lid, count) >= f32(params.topK)) { lo = mid; } else { hi = mid; }
    }
    threshold = lo;
  }

  // top-p: the largest threshold whose kept mass is still ≥ p of the mass above the top-k threshold
  var keptTotal = 0.0;
  for (var i = lid; i < V; i += WORKGROUP_SIZE) { let s = scaled(i); if (s >= threshold) { keptTotal += exp(s - top); } }
  keptTotal = workgroupSum(lid, keptTotal);
  if (params.topP < 1.0) {
    var lo = threshold;
    var hi = top;
    for (var step = 0u; step < BISECTION_STEPS; step++) {
      let mid = lo + (hi - lo) * 0.5;
      var mass = 0.0;
      for (var i = lid; i < V; i += WORKGROUP_SIZE) { let s = scaled(i); if (s >= mid) { mass += exp(s - top); } }
      if (workgroupSum(lid, mass) >= params.topP * keptTotal) { lo = mid; } else { hi = mid; }
    }
    threshold = lo;
  }

  // draw: each thread owns a contiguous chunk of ids; find the chunk, then the token, holding u · mass
  let chunk = (V + WORKGROUP_SIZE - 1u) / WORKGROUP_SIZE;
  var mass = 0.0;
  for (var i = lid * chunk; i < min(V, (lid + 1u) * chunk); i++) { let s = scaled(i); if (s >= threshold) { mass += exp(s - top); } }
  chunkMass[lid] = mass;
  workgroupBarrier();
  if (lid == 0u) {
    var total = 0.0;
    for (var c = 0u; c < WORKGROUP_SIZE; c++) { total += chunkMass[c]; }
    var remaining = params.u * total;
    var chosen = 0xffffffffu;
    var lastKept = 0u;
    for (var c = 0u; c < WORKGROUP_SIZE && chosen == 0xffffffffu; c++) {
      if (remaining >= chunkMass[c]) { remaining -= chunkMass[c]; if (chunkMass[c] > 0.0) { lastKept = c; } continue; }
      for (var i = c * chunk; i < min(V, (c + 1u) * chunk); i++) {
        let s = scaled(i);
        if (s < threshold) { continue; }
        let p = exp(s - top);
        if (remaining < p) { chosen = i; break; }
        remaining -= p;
        lastKept = c;
      }
    }
    if (chosen == 0xffffffffu) {
      // rounding left u · mass past the end: take the last kept token
      for (var i = min(V, (lastKept + 1u) * chunk); i > lastKept * chunk; i--) { if (scaled(i - 1u) >= threshold) { chosen = i - 1u; break; } }
    }
    id[0] = chosen;
  }
}
