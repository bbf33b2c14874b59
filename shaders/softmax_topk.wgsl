// Router scoring and expert selection for one token per workgroup:
//   probs   = softmax(logits)                       over all E experts
//   experts = the k largest probs, in rank order    ties go to the lower expert id
//   weights = their probs, divided by their sum when renormalize = 1
// With renormalize = 1 the weights equal "softmax over the k selected logits" (Mixtral, GraniteMoE);
// with 0 they are the raw top-k probabilities (OLMoE, Qwen2-MoE without norm_topk_prob).

struct Params {
  numTokens: u32,    // T, in tokens
  numExperts: u32,   // E, in experts (any count; each thread scans E / WORKGROUP_SIZE of them)
  topK: u32,         // k, 1..MAX_K
  renormalize: u32,  // 1: divide the k weights by their sum; 0: keep them as probabilities
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> logits: array<f32>;            // [T, E] f32 router logits
@group(0) @binding(2) var<storage, read_write> probs: array<f32>;       // [T, E] f32 softmax over experts
@group(0) @binding(3) var<storage, read_write> expertIds: array<u32>;   // [T, k] u32, rank order
@group(0) @binding(4) var<storage, read_write> weights: array<f32>;     // [T, k] f32 combine weights

// Threads per workgroup; must be a power of two (tree reductions halve it).
override WORKGROUP_SIZE: u32 = 64;
const MAX_K: u32 = 8u;

var<workgroup> reduceValue: array<f32, WORKGROUP_SIZE>;
var<workgroup> reduceIndex: array<u32, WORKGROUP_SIZE>;
var<workgroup> chosen: array<u32, MAX_K>;
#include "workgroup_reduce"

// Is (va, ia) ranked before (vb, ib)? Larger value first; equal values: lower expert id first.
fn ranksBefore(va: f32, ia: u32, vb: f32, ib: u32) -> bool {
  return va > vb || (va == vb && ia < ib);
}

fn isChosen(e: u32, count: u32) -> bool {
  for (var r = 0u; r < count; r++) {
    if (chosen[r] == e) { return true; }
  }
  return false;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) groups: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  // Tokens beyond 65535 workgroups spill into y; the whole workgroup leaves together.
  let token = wid.x + wid.y * groups.x;
  if (token >= params.numTokens) { return; }
  let E = params.numExperts;
  let row = token * E;

  // softmax: subtract the row maximum for stability
  var localMax = -0x1.fffffep+127f;
  for (var e = lid; e < E; e += WORKGROUP_SIZE) { localMax = max(localMax, logits[row + e]); }
  let rowMax = workgroupMax(lid, localMax);

  var localSum = 0.0;
  for (var e = lid; e < E; e += WORKGROUP_SIZE) { localSum += exp(logits[row + e] - rowMax); }
  let rowSum = workgroupSum(lid, localSum);
  for (var e = lid; e < E; e += WORKGROUP_SIZE) { probs[row + e] = exp(logits[row + e] - rowMax) / rowSum; }

  // top-k: k rounds of a workgroup argmax over the experts not yet chosen
  let k = min(params.topK, MAX_K);
  var chosenSum = 0.0;
  for (var r = 0u; r < k; r++) {
    var bestValue = -0x1.fffffep+127f;
    var bestIndex = 0xffffffffu;
    for (var e = lid; e < E; e += WORKGROUP_SIZE) {
      let p = exp(logits[row + e] - rowMax) / rowSum;
      if (!isChosen(e, r) && ranksBefore(p, e, bestValue, bestIndex)) { bestValue = p; bestIndex = e; }
    }
    workgroupBarrier();
    reduceValue[lid] = bestValue;
    reduceIndex[lid] = bestIndex;
    for (var stride = WORKGROUP_SIZE / 2u; stride > 0u; stride /= 2u) {
      workgroupBarrier();
      if (lid < stride &&
          ranksBefore(reduceValue[lid + stride], reduceIndex[lid + stride], reduceValue[lid], reduceIndex[lid])) {
        reduceValue[lid] = reduceValue[lid + stride];
        reduceIndex[lid] = reduceIndex[lid + stride];
      }
    }
    workgroupBarrier();
    if (lid == 0u) { chosen[r] = reduceIndex[0]; }
    chosenSum += reduceValue[0];
    workgroupBarrier();
  }

  if (lid < k) {
    let p = exp(logits[row + chosen[lid]] - rowMax) / rowSum;
    expertIds[token * k + lid] = chosen[lid];
    weights[token * k + lid] = select(p, p / chosenSum, params.renormalize == 1u);
  }
}
