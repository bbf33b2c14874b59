// Expert selection for the routing rules that are not "softmax then top-k", one token per workgroup
// (its first thread walks the E ≤ 256 experts; selection is a small part of a step):
//   RULE 0  sparsemixer (PhiMoE, k = 2, eval): expert 1 = argmax; weight 1 = softmax over the logits within
//           the jitter threshold of the max; expert 2 = argmax without expert 1, weight likewise.
//   RULE 1  sigmoid, bias-corrected, group-limited top-k (DeepSeek-V3 "noaux_tc"): s = sigmoid(logits);
//           choose on s + bias: keep the topkGroups groups with the largest sum of their top-2, zero the
//           rest, take the top k; weights = s of the chosen, renormalised if asked, × scaling.
// Ties go to the lower expert id. Outputs in rank order.

struct Params {
  numTokens: u32,
  numExperts: u32,   // E
  topK: u32,         // k (2 for sparsemixer)
  numGroups: u32,    // RULE 1
  topkGroups: u32,   // RULE 1
  normalize: u32,    // RULE 1
  scaling: f32,      // RULE 1: routed_scaling_factor
  jitterEps: f32,    // RULE 0: router_jitter_noise
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> logits: array<f32>;            // [T, E] f32
@group(0) @binding(2) var<storage, read> bias: array<f32>;              // [E] f32 correction bias (RULE 1)
@group(0) @binding(3) var<storage, read_write> expertIds: array<u32>;   // [T, k]
@group(0) @binding(4) var<storage, read_write> weights: array<f32>;     // [T, k]

override RULE: u32 = 0;
const MAX_EXPERTS: u32 = 256u;
const MAX_K: u32 = 8u;
const NEG_INF = -0x1.fffffep+127f;

var<private> choice: array<f32, MAX_EXPERTS>;

/** One sparsemixer pick: the best logit not excluded, and its weight among the logits near it. */
fn sparsemixerPick(row: u32, excluded: u32) -> vec2f {
  let E = params.numExperts;
  var best = NEG_INF;
  var index = 0u;
  for (var e = 0u; e < E; e++) {
    let l = logits[row + e];
    if (e != excluded && l > best) { best = l; index = e; }
  }
  // mask l when (best − l) / max(|l|, best) > 2·eps; the excluded expert stays out
  var sum = 0.0;
  for (var e = 0u; e < E; e++) {
    let l = logits[row + e];
    let masked = (best - l) / max(abs(l), best) > 2.0 * params.jitterEps;
    if (e != excluded && !masked) { sum += exp(l - best); }
  }
  return vec2f(f32(index), 1.0 / sum);
}

@compute @workgroup_size(1)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let t = wid.x + wid.y * groups.x;
  if (t >= params.numTokens) { return; }
  let E = params.numExperts;
  let k = params.topK;
  let row = t * E;
  let out = t * k;

  if (RULE == 0u) {
    let first = sparsemixerPick(row, 0xffffffffu);
    let second = sparsemixerPick(row, u32(first.x));
    expertIds[out] = u32(first.x);
    weights[out] = first.y;
    expertIds[out + 1u] = u32(second.x);
    weights[out + 1u] = second.y;
    return;
  }

  // scores for choice, and the groups that may be chosen from
  for (var e = 0u; e < E; e++) { choice[e] = 1.0 / (1.0 + exp(-logits[row + e])) + bias[e]; }
  let perGroup = E / params.numGroups;
  var groupScore: array<f32, MAX_EXPERTS>;
  for (var g = 0u; g < params.numGroups; g++) {
    var a = NEG_INF;
    var b = NEG_INF;
    for (var e = g * perGroup; e < (g + 1u) * perGroup; e++) {
      let s = choice[e];
      if (s > a) { b = a; a = s; } else if (s > b) { b = s; }
    }
    groupScore[g] = a + b;
  }
  var keep: array<bool, MAX_EXPERTS>;
  for (var g = 0u; g < params.numGroups; g++) { keep[g] = false; }
  for (var r = 0u; r < params.topkGroups; r++) {
    var best = NEG_INF;
    var index = 0u;
    for (var g = 0u; g < params.numGroups; g++) {
      if (!keep[g] && groupScore[g] > best) { best = groupScore[g]; index = g; }
    }
    keep[index] = true;
  }
  // experts of dropped groups score 0 (not −∞), exactly as masked_fill(…, 0.0) does
  for (var e = 0u; e < E; e++) { if (!keep[e / perGroup]) { choice[e] = 0.0; } }

  var chosen: array<u32, MAX_K>;
  var sum = 0.0;
  for (var r = 0u; r < k; r++) {
    var best = NEG_INF;
    var index = 0u;
    for (var e = 0u; e < E; e++) {
      var taken = false;
      for (var q = 0u; q < r; q++) { if (chosen[q] == e) { taken = true; } }
      if (!taken && choice[e] > best) { best = choice[e]; index = e; }
    }
    chosen[r] = index;
    sum += 1.0 / (1.0 + exp(-logits[row + index]));
  }
  for (var r = 0u; r < k; r++) {
    let s = 1.0 / (1.0 + exp(-logits[row + chosen[r]]));
    var w = s;
    if (params.normalize == 1u) { w = s / (sum + 1e-20); }
    expertIds[out + r] = chosen[r];
    weights[out + r] = w * params.scaling;
  }
}
