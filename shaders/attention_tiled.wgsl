// Causal attention with grouped-query heads over a KV cache for many queries at once (prefill), tiled:
// one workgroup per (block of 16 query tokens, head). The block's queries are staged once in workgroup
// memory; keys and values are visited in blocks of 32 positions, each staged once for all 16 queries:
//   scores (16 × 32) = scale · Q Kᵀ → online softmax per query row (running max and sum) → acc += P V.
// Same contract as attention.wgsl (which serves single tokens and other head sizes):
//   out[t, h, :] = Σ_p softmax_p(scale · q[t,h,:] · K[p, h / group, :]) · V[p, h / group, :]
// over cached positions p ≤ pos0 + t (and p > pos0 + t − window when a sliding window is set).
// Needs head dims d, dv ≤ 128 and multiples of 4, and 29,184 bytes of workgroup memory.
// Thread (row sr, lane sk) scores keys sk and sk + 16 of its row (one q load for both), turns those two
// scores into weights (each exp computed once, not once per thread of the row), and owns dims 4sk … 4sk+3
// and 64 + 4sk … of its row's output; each keeps its row's running max and sum itself.
// Global loads are issued a phase ahead, into registers: a block's values while its scores are computed,
// the next block's keys while its values are summed, so that the barriers do not wait on memory (H100,
// 512 tokens, 16 heads of 128: 304 → 190 µs per layer; tools/attention_cost.mjs).

#include "attention_params"

@group(0) @binding(1) var<storage, read> q: array<vec4<f32>>;           // [T, heads, d / 4]
@group(0) @binding(2) var<storage, read> kCache: array<vec4<f32>>;      // [maxPos, kvHeads, d / 4]
@group(0) @binding(3) var<storage, read> vCache: array<vec4<f32>>;      // [maxPos, kvHeads, dv / 4]
@group(0) @binding(4) var<storage, read_write> out: array<vec4<f32>>;   // [T, heads, dv / 4]

const QUERIES: u32 = 16u;     // query tokens per workgroup
const KEYS: u32 = 32u;        // positions per staged key/value block
const ROW: u32 = 33u;         // vec4s per staged key/value row: 32, padded so neighbouring keys use other banks
const MASKED = -0x1.fffffep+127f;

var<workgroup> qTile: array<vec4<f32>, 512>;    // [QUERIES][32]: d / 4 used of each row
var<workgroup> kvTile: array<vec4<f32>, 1056>;  // [KEYS][ROW]: the block's keys, then its values
var<workgroup> scores: array<f32, 512>;         // [QUERIES][KEYS], MASKED where a query may not look
var<workgroup> weights: array<f32, 512>;        // [QUERIES][KEYS]: exp(score − the row's block max), 0 where masked

const PER_THREAD: u32 = 4u;   // vec4s a thread stages per block: KEYS · (128 / 4) / 256 threads
var<private> staged: array<vec4<f32>, 4>;   // this thread's share of the block being loaded

/** Load this thread's share of the keys (or values) of positions kb … kb + KEYS − 1 into `staged` (zeros past lastKey); rows of w4 vec4s. */
fn loadBlock(values: bool, kb: u32, lastKey: u32, kvh: u32, w4: u32, li: u32) {
  for (var j = 0u; j < PER_THREAD; j++) {
    let e = li + j * 256u;
    let key = e / w4;
    var v = vec4<f32>(0.0);
    if (e < KEYS * w4 && kb + key <= lastKey) {
      let at = ((kb + key) * params.numKvHeads + kvh) * w4 + e % w4;
      if (values) { v = vCache[at]; } else { v = kCache[at]; }
    }
    staged[j] = v;
  }
}

/** Write `staged` into the key/value tile. */
fn storeBlock(w4: u32, li: u32) {
  for (var j = 0u; j < PER_THREAD; j++) {
    let e = li + j * 256u;
    if (e < KEYS * w4) { kvTile[(e / w4) * ROW + e % w4] = staged[j]; }
  }
}

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
    qTile[r * 32u + e % d4] = v;
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

  loadBlock(false, firstKey - firstKey % KEYS, lastKey, kvh, d4, li);
  for (var kb = firstKey - firstKey % KEYS; kb <= lastKey; kb += KEYS) {
    storeBlock(d4, li);   // this block's keys, loaded during the previous block
    workgroupBarrier();
    loadBlock(true, kb, lastKey, kvh, dv4, li);   // its values, in flight while the scores are computed
    var t0s = 0.0;   // row sr against key sk
    var t1s = 0.0;   // against key sk + 16
    // i counts to a constant (d / 4 ≤ 32 of it used), so that Tint can bound the tile indices and leave out
    // robustness's clamps (H200, 512 tokens, 16 heads of 128: 190 → 181 µs per layer; tools/attention_cost.mjs)
    for (var i = 0u; i < 32u; i++) {
      if (i >= d4) { break; }
      let qv = qTile[sr * 32u + i];
      t0s += dot(qv, kvTile[sk * ROW + i]);
      t1s += dot(qv, kvTile[(sk + 16u) * ROW + i]);
    }
    let p0 = kb + sk;
    let p1 = p0 + 16u;
    let mine0 = select(MASKED, t0s * params.scale, rowExists && p0 >= myFirst && p0 <= myLast);
    let mine1 = select(MASKED, t1s * params.scale, rowExists && p1 >= myFirst && p1 <= myLast);
    scores[sr * KEYS + sk] = mine0;
    scores[sr * KEYS + sk + 16u] = mine1;
    workgroupBarrier();
    // the values of the block replace its keys; each thread turns its two scores into weights against
    // the row's max over the block (online softmax: running max and sum per row)
    storeBlock(dv4, li);
    var blockMax = runningMax;
    for (var key = 0u; key < KEYS; key++) { blockMax = max(blockMax, scores[sr * KEYS + key]); }
    weights[sr * KEYS + sk] = select(0.0, exp(mine0 - blockMax), mine0 > MASKED);
    weights[sr * KEYS + sk + 16u] = select(0.0, exp(mine1 - blockMax), mine1 > MASKED);
    workgroupBarrier();
    loadBlock(false, kb + KEYS, lastKey, kvh, d4, li);   // the next block's keys, in flight during P·V
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
