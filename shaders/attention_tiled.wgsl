// Causal attention with grouped-query heads over a KV cache for many queries at once (prefill), tiled:
// one workgroup per (block of 16 query tokens, head). The block's queries are staged once in workgroup
// memory; keys and values are visited in blocks of 32 positions, each staged once for all 16 queries:
//   scores (16 × 32) = scale · Q Kᵀ → online softmax per query row (running max and sum) → acc += P V.
// Same contract as attention.wgsl (which serves single tokens and other head sizes):
//   out[t, h, :] = Σ_p softmax_p(scale · q[t,h,:] · K[p, h / group, :]) · V[p, h / group, :]
// over cached positions p ≤ pos0 + t (and p > pos0 + t − window when a sliding window is set).
// Needs head dims d, dv ≤ 128 and multiples of 4, and 29,184 bytes of workgroup memory.
// Thread (row sr, lane sk) scores keys sk and sk + 16 of its row, turns those two scores into weights
// (each exp computed once, not once per thread of the row), and owns dims 4sk … 4sk+3 and 64 + 4sk …
// of its row's output; each keeps its row's running max and sum itself.

#include "attention_params"

@group(0) @binding(1) var<storage, read> q: array<vec4<f32>>;           // [T, heads, d / 4]
@group(0) @binding(2) var<storage, read> kCache: array<vec4<f32>>;      // [maxPos, kvHeads, d / 4]
@group(0) @binding(3) var<storage, read> vCache: array<vec4<f32>>;      // [maxPos, kvHeads, dv / 4]
@group(0) @binding(4) var<storage, read_write> out: array<vec4<f32>>;   // [T, heads, dv / 4]

const QUERIES: u32 = 16u;     // query tokens per workgroup
const KEYS: u32 = 32u;        // positions per staged key/value block
const ROW: u32 = 33u;         // vec4s per staged key/value row: 32, padded so neighbouring keys use other banks
const MASKED = -0x1.fffffep+127f;

var<workgroup> qTile: array<vec4<f32>, 512>;    // [QUERIES][d / 4]
var<workgroup> kvTile: array<vec4<f32>, 1056>;  // [KEYS][ROW]: the block's keys, then its values
var<workgroup> scores: array<f32, 512>;         // [QUERIES][KEYS], MASKED where a query may not look
var<workgroup> weights: array<f32, 512>;        // [QUERIES][KEYS]: exp(score − the row's block max), 0 where masked

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) groups: vec3u,
        @builtin(local_invocation_index) li: u32) {
  let blocks = (params.numTokens + QUERIES - 1u) / QUERIES;
  let index = wid.x + wid.y * groups.x;   // h · blocks + query block
  if (index >= blocks * params.numHeads) { return; }
  let h = index / blocks;
  let t0 = (index % blocks) * QUERIES;
  let kvh = h / (params.numHeads / params.numKvHeads);
  let d4 = params.headDim / 4u;
  let dv4 = params.valueDim / 4u;
  let H = params.numHeads;
  let rows = min(QUERIES, params.numTokens - t0);      // queries of this block that exist
  let firstKey = firstPosition(params.pos0 + t0);     // of the block's first query
  let lastKey = params.pos0 + t0 + rows - 1u;          // of its last

  for (var e = li; e < QUERIES * d4; e += 256u) {
    let r = e / d4;
    var v = vec4<f32>(0.0);
    if (r < rows) { v = q[((t0 + r) * H + h) * d4 + e % d4]; }
    qTile[e] = v;
  }

  let sr = li / 16u;
  let sk = li % 16u;
  let rowExists = sr < rows;
  let myLast = params.pos0 + t0 + sr;
  let myFirst = firstPosition(myLast);
  var runningMax = MASKED;
  var runningSum = 0.0;
  var acc0 = vec4<f32>(0.0);   // dims 4sk …
  var acc1 = vec4<f32>(0.0);   // dims 64 + 4sk …

  for (var kb = firstKey - firstKey % KEYS; kb <= lastKey; kb += KEYS) {
    for (var e = li; e < KEYS * d4; e += 256u) {
      let key = e / d4;
      var v = vec4<f32>(0.0);
      if (kb + key <= lastKey) { v = kCache[((kb + key) * params.numKvHeads + kvh) * d4 + e % d4]; }
      kvTile[key * ROW + e % d4] = v;
    }
    workgroupBarrier();
    var mine = array<f32, 2>(MASKED, MASKED);   // this thread's two scores: keys sk, sk + 16
    for (var j = 0u; j < 2u; j++) {
      let key = sk + 16u * j;
      let p = kb + key;
      if (rowExists && p >= myFirst && p <= myLast) {
        var total = 0.0;
        for (var i = 0u; i < d4; i++) { total += dot(qTile[sr * d4 + i], kvTile[key * ROW + i]); }
        mine[j] = total * params.scale;
      }
      scores[sr * KEYS + key] = mine[j];
    }
    workgroupBarrier();
    // the values of the block replace its keys; each thread turns its two scores into weights against
    // the row's max over the block (online softmax: running max and sum per row)
    for (var e = li; e < KEYS * dv4; e += 256u) {
      let key = e / dv4;
      var v = vec4<f32>(0.0);
      if (kb + key <= lastKey) { v = vCache[((kb + key) * params.numKvHeads + kvh) * dv4 + e % dv4]; }
      kvTile[key * ROW + e % dv4] = v;
    }
    var blockMax = runningMax;
    for (var key = 0u; key < KEYS; key++) { blockMax = max(blockMax, scores[sr * KEYS + key]); }
    for (var j = 0u; j < 2u; j++) {
      weights[sr * KEYS + sk + 16u * j] = select(0.0, exp(mine[j] - blockMax), mine[j] > MASKED);
    }
    workgroupBarrier();
    let rescale = exp(runningMax - blockMax);
    runningSum *= rescale;
    acc0 *= rescale;
    acc1 *= rescale;
    for (var key = 0u; key < KEYS; key++) {
      let weight = weights[sr * KEYS + key];
      runningSum += weight;
      acc0 += weight * kvTile[key * ROW + sk];
      acc1 += weight * kvTile[key * ROW + 16u + sk];
    }
    runningMax = blockMax;
    workgroupBarrier();
  }

  if (rowExists) {
    let base = ((t0 + sr) * H + h) * dv4;
    if (sk < dv4) { out[base + sk] = acc0 / runningSum; }
    if (16u + sk < dv4) { out[base + 16u + sk] = acc1 / runningSum; }
  }
}
