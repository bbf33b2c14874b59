// Causal attention with grouped-query heads over a KV cache, one workgroup per (query token, head):
//   out[t, h, :] = Σ_p softmax_p(scale · q[t,h,:] · K[p, h / group, :]) · V[p, h / group, :]
// over cached positions p ≤ pos0 + t (and p > pos0 + t − window when a sliding window is set).
// Positions are visited in blocks of WORKGROUP_SIZE with an online softmax (running max and sum), so any
// context length works with fixed workgroup memory. Prefill and decode are the same kernel (T = 1).

struct Params {
  numTokens: u32,   // T queries, at positions pos0 .. pos0 + T − 1
  numHeads: u32,    // query heads
  numKvHeads: u32,  // key/value heads; numHeads / numKvHeads queries share one
  headDim: u32,     // d of q and k
  valueDim: u32,    // d of v and out
  pos0: u32,
  scale: f32,
  window: u32,      // sliding window in positions; 0 = none
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> q: array<f32>;           // [T, heads, d]
@group(0) @binding(2) var<storage, read> kCache: array<f32>;      // [maxPos, kvHeads, d]
@group(0) @binding(3) var<storage, read> vCache: array<f32>;      // [maxPos, kvHeads, dv]
@group(0) @binding(4) var<storage, read_write> out: array<f32>;   // [T, heads, dv]

const WORKGROUP_SIZE: u32 = 64u;
const MAX_VALUE_DIM: u32 = 256u;
const DIMS_PER_THREAD: u32 = MAX_VALUE_DIM / WORKGROUP_SIZE;

var<workgroup> scores: array<f32, WORKGROUP_SIZE>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) groups: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let index = wid.x + wid.y * groups.x;   // t · heads + h
  if (index >= params.numTokens * params.numHeads) { return; }
  let t = index / params.numHeads;
  let h = index % params.numHeads;
  let kvh = h / (params.numHeads / params.numKvHeads);
  let d = params.headDim;
  let dv = params.valueDim;
  let last = params.pos0 + t;                       // the query's own position
  var first = 0u;
  if (params.window > 0u && last + 1u > params.window) { first = last + 1u - params.window; }
  let qBase = index * d;

  var runningMax = -0x1.fffffep+127f;
  var runningSum = 0.0;
  var acc: array<f32, DIMS_PER_THREAD>;
  for (var j = 0u; j < DIMS_PER_THREAD; j++) { acc[j] = 0.0; }

  for (var block = first; block <= last; block += WORKGROUP_SIZE) {
    // each thread scores one position of the block
    let p = block + lid;
    var s = -0x1.fffffep+127f;
    if (p <= last) {
      let kBase = (p * params.numKvHeads + kvh) * d;
      var dot = 0.0;
      for (var i = 0u; i < d; i++) { dot += q[qBase + i] * kCache[kBase + i]; }
      s = dot * params.scale;
    }
    scores[lid] = s;
    workgroupBarrier();

    let count = min(WORKGROUP_SIZE, last + 1u - block);
    var blockMax = runningMax;
    for (var j = 0u; j < count; j++) { blockMax = max(blockMax, scores[j]); }
    let correction = exp(runningMax - blockMax);
    runningSum *= correction;
    for (var j = 0u; j < DIMS_PER_THREAD; j++) { acc[j] *= correction; }
    for (var j = 0u; j < count; j++) {
      let weight = exp(scores[j] - blockMax);
      runningSum += weight;
      let vBase = ((block + j) * params.numKvHeads + kvh) * dv;
      for (var r = 0u; r < DIMS_PER_THREAD; r++) {
        let dim = lid + r * WORKGROUP_SIZE;
        if (dim < dv) { acc[r] += weight * vCache[vBase + dim]; }
      }
    }
    runningMax = blockMax;
    workgroupBarrier();
  }

  for (var r = 0u; r < DIMS_PER_THREAD; r++) {
    let dim = lid + r * WORKGROUP_SIZE;
    if (dim < dv) { out[index * dv + dim] = acc[r] / runningSum; }
  }
}
