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

#include "workgroup_reduce"
#include "choose_experts"

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) groups: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  // Tokens beyond 65535 workgroups spill into y; the whole workgroup leaves together.
  let token = wid.x + wid.y * groups.x;
  if (token >= params.numTokens) { return; }
  let E = params.numExperts;
  let row = token * E;
  let k = min(params.topK, MAX_K);
  let softmax = chooseExperts(row, E, k, lid);
  for (var e = lid; e < E; e += WORKGROUP_SIZE) { probs[row + e] = probability(row, e, softmax.max, softmax.sum); }
  if (lid < k) {
    expertIds[token * k + lid] = chosen[lid];
    weights[token * k + lid] = chosenWeight(lid, k, params.renormalize == 1u);
  }
}
