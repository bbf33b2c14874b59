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

const STAGE: u32 = 256u;  // probabilities compared per pass of the ranking

var<workgroup> staged: array<f32, STAGE>;
var<workgroup> chosen: array<u32, MAX_K>;       // expert of each rank < k
var<workgroup> chosenProbs: array<f32, MAX_K>;
#include "workgroup_reduce"

// Is (va, ia) ranked before (vb, ib)? Larger value first; equal values: lower expert id first.
fn ranksBefore(va: f32, ia: u32, vb: f32, ib: u32) -> bool {
  return va > vb || (va == vb && ia < ib);
}

/** Expert e's probability: one expression everywhere, so the ranking compares exactly the values written. */
fn probability(row: u32, e: u32, rowMax: f32, rowSum: f32) -> f32 {
  return exp(logits[row + e] - rowMax) / rowSum;
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
  for (var e = lid; e < E; e += WORKGROUP_SIZE) { probs[row + e] = probability(row, e, rowMax, rowSum); }

  // top-k by rank: an expert's rank is the number of experts ranked before it (one pass over the
  // probabilities staged STAGE at a time, instead of k rounds of a workgroup argmax)
  let k = min(params.topK, MAX_K);
  let perThread = (E + WORKGROUP_SIZE - 1u) / WORKGROUP_SIZE;
  for (var j = 0u; j < perThread; j++) {
    let e = lid + j * WORKGROUP_SIZE;
    var p = 0.0;
    if (e < E) { p = probability(row, e, rowMax, rowSum); }
    var rank = 0u;
    for (var first = 0u; first < E; first += STAGE) {
      workgroupBarrier();
      for (var i = lid; i < STAGE; i += WORKGROUP_SIZE) {
        if (first + i < E) { staged[i] = probability(row, first + i, rowMax, rowSum); }
      }
      workgroupBarrier();
      let n = min(STAGE, E - first);
      for (var i = 0u; i < n; i++) {
        if (ranksBefore(staged[i], first + i, p, e)) { rank++; }
      }
    }
    if (e < E && rank < k) {
      chosen[rank] = e;
      chosenProbs[rank] = p;
    }
  }
  workgroupBarrier();

  if (lid < k) {
    var chosenSum = 0.0;
    for (var r = 0u; r < k; r++) { chosenSum += chosenProbs[r]; }
    let p = chosenProbs[lid];
    expertIds[token * k + lid] = chosen[lid];
    weights[token * k + lid] = select(p, p / chosenSum, params.renormalize == 1u);
  }
}
