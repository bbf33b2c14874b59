// Included by softmax_topk and expert_gate_up_rows (CHOOSE): one token's router softmax and its top-k,
// computed by a whole workgroup:
//   probs   = softmax(logits)                       over all E experts
//   experts = the k largest probs, in rank order    ties go to the lower expert id
// chooseByLogit ranks the logits instead, which costs far less (no reductions, no exps): softmax is
// monotonic, so the order is the same, except where two different logits round to one probability
// (then the higher logit ranks first, where chooseExperts would take the lower id).
// The including shader declares `logits: array<f32>` (router logits [T, E]) and WORKGROUP_SIZE, and
// includes workgroup_reduce. Call from uniform control flow.

const MAX_K: u32 = 8u;
const STAGE: u32 = 256u;  // probabilities compared per pass of the ranking

var<workgroup> staged: array<f32, STAGE>;
var<workgroup> chosen: array<u32, MAX_K>;       // expert of each rank < k
var<workgroup> chosenProbs: array<f32, MAX_K>;

// Is (va, ia) ranked before (vb, ib)? Larger value first; equal values: lower expert id first.
fn ranksBefore(va: f32, ia: u32, vb: f32, ib: u32) -> bool {
  return va > vb || (va == vb && ia < ib);
}

/** Expert e's probability: one expression everywhere, so the ranking compares exactly the values written. */
fn probability(row: u32, e: u32, rowMax: f32, rowSum: f32) -> f32 {
  return exp(logits[row + e] - rowMax) / rowSum;
}

/** The softmax's shift and normaliser: probability(row, e, max, sum). */
struct Softmax {
  max: f32,
  sum: f32,
}

/**
 * chosen[r] and chosenProbs[r] for ranks r < k (k ≤ MAX_K ≤ E) of the token whose logits start at `row`,
 * visible to the whole workgroup on return.
 */
fn chooseExperts(row: u32, E: u32, k: u32, lid: u32) -> Softmax {
  let softmax = softmaxOf(row, E, lid);
  let rowMax = softmax.max;
  let rowSum = softmax.sum;

  // top-k by rank: an expert's rank is the number of experts ranked before it (one pass over the
  // probabilities staged STAGE at a time, instead of k rounds of a workgroup argmax)
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
  return softmax;
}

/** The softmax's shift (the row maximum, for stability) and normaliser over the E logits from `row`. */
fn softmaxOf(row: u32, E: u32, lid: u32) -> Softmax {
  var localMax = -0x1.fffffep+127f;
  for (var e = lid; e < E; e += WORKGROUP_SIZE) { localMax = max(localMax, logits[row + e]); }
  let rowMax = workgroupMax(lid, localMax);
  var localSum = 0.0;
  for (var e = lid; e < E; e += WORKGROUP_SIZE) { localSum += exp(logits[row + e] - rowMax); }
  return Softmax(rowMax, workgroupSum(lid, localSum));
}

/**
 * chosen[r] for ranks r < k by logit (see top; E ≤ WORKGROUP_SIZE: one expert per thread), visible to
 * the whole workgroup on return. chosenProbs is left unset: see chosenProbabilities.
 */
fn chooseByLogit(row: u32, E: u32, k: u32, lid: u32) {
  if (lid < E) { staged[lid] = logits[row + lid]; }
  rankStaged(E, k, lid);
}

/** chooseByLogit's ranking, of logits the caller staged (staged[e] for e < E ≤ WORKGROUP_SIZE). */
fn rankStaged(E: u32, k: u32, lid: u32) {
  workgroupBarrier();
  if (lid < E) {
    let l = staged[lid];
    var rank = 0u;
    for (var i = 0u; i < E; i++) {
      if (ranksBefore(staged[i], i, l, lid)) { rank++; }
    }
    if (rank < k) { chosen[rank] = lid; }
  }
  workgroupBarrier();
}

/**
 * chosenProbs[r] for ranks r < k after chooseByLogit (or rankStaged): the chosen experts' softmax
 * probabilities. The logits are still staged, and the largest is rank 0's, so only the sum takes a
 * reduction.
 */
fn chosenProbabilities(E: u32, k: u32, lid: u32) {
  let rowMax = staged[chosen[0]];
  var term = 0.0;
  if (lid < E) { term = exp(staged[lid] - rowMax); }
  let rowSum = workgroupSum(lid, term);
  if (lid < k) { chosenProbs[lid] = exp(staged[chosen[lid]] - rowMax) / rowSum; }
  workgroupBarrier();
}

/** The combine weight of rank r: its probability, or divided by the k chosen ones' sum (renormalize). */
fn chosenWeight(r: u32, k: u32, renormalize: bool) -> f32 {
  var chosenSum = 0.0;
  for (var i = 0u; i < k; i++) { chosenSum += chosenProbs[i]; }
  let p = chosenProbs[r];
  return select(p, p / chosenSum, renormalize);
}
