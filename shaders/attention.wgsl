// Causal attention with grouped-query heads over a KV cache, one workgroup per (query token, head) (decode,
// and heads attention_tiled.wgsl does not take):
//   out[t, h, :] = Σ_p softmax_p(scale · q[t,h,:] · K[p, h / group, :]) · V[p, h / group, :]
// over cached positions p ≤ pos0 + t (and p > pos0 + t − window when a sliding window is set).
// Positions are visited in blocks of 64 with an online softmax (running max and sum), so any context
// length works with fixed workgroup memory: four threads share each position's dot product, then every
// thread adds the block's weighted values to its own value dim (head dims up to 256).

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

const BLOCK: u32 = 64u;            // positions scored per step
const SPLIT: u32 = 4u;             // threads per position's dot product
const WORKGROUP_SIZE: u32 = BLOCK * SPLIT;
const MAX_DIM: u32 = 256u;         // of q, k and v: one value dim per thread

var<workgroup> query: array<f32, MAX_DIM>;
var<workgroup> partial: array<f32, WORKGROUP_SIZE>;
var<workgroup> scores: array<f32, BLOCK>;

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
  for (var i = lid; i < d; i += WORKGROUP_SIZE) { query[i] = q[index * d + i]; }
  workgroupBarrier();

  var runningMax = -0x1.fffffep+127f;
  var runningSum = 0.0;
  var acc = 0.0;                                    // value dim `lid`
  let position = lid / SPLIT;                       // of the block, for the scores
  let part = lid % SPLIT;                           // dims part, part + SPLIT, … of its dot product

  for (var block = first; block <= last; block += BLOCK) {
    // SPLIT threads score each position of the block
    let p = block + position;
    var dot = 0.0;
    if (p <= last) {
      let kBase = (p * params.numKvHeads + kvh) * d;
      for (var i = part; i < d; i += SPLIT) { dot += query[i] * kCache[kBase + i]; }
    }
    partial[lid] = dot;
    workgroupBarrier();
    if (lid < BLOCK) {
      var s = -0x1.fffffep+127f;
      if (block + lid <= last) {
        s = (partial[lid * SPLIT] + partial[lid * SPLIT + 1u] + partial[lid * SPLIT + 2u] + partial[lid * SPLIT + 3u]) * params.scale;
      }
      scores[lid] = s;
    }
    workgroupBarrier();

    let count = min(BLOCK, last + 1u - block);
    var blockMax = runningMax;
    for (var j = 0u; j < count; j++) { blockMax = max(blockMax, scores[j]); }
    let correction = exp(runningMax - blockMax);
    runningSum *= correction;
    acc *= correction;
    for (var j = 0u; j < count; j++) {
      let weight = exp(scores[j] - blockMax);
      runningSum += weight;
      if (lid < dv) { acc += weight * vCache[((block + j) * params.numKvHeads + kvh) * dv + lid]; }
    }
    runningMax = blockMax;
    workgroupBarrier();
  }

  if (lid < dv) { out[index * dv + lid] = acc / runningSum; }
}
