// Causal attention with grouped-query heads over a KV cache for many queries at once (prefill), tiled:
// one workgroup per (two blocks of 16 query tokens, head; see main). A block's queries are staged once in
// workgroup memory; keys and values are visited in blocks of 32 positions, each staged once for all 16:
//   scores (16 × 32) = scale · Q Kᵀ → online softmax per query row (running max and sum) → acc += P V.
// Same contract as attention.wgsl (which serves single tokens and other head sizes):
//   out[t, h, :] = Σ_p softmax_p(scale · q[t,h,:] · K[p, h / group, :]) · V[p, h / group, :]
// over cached positions p ≤ pos0 + t (and p > pos0 + t − window when a sliding window is set).
// Needs head dims d, dv ≤ 128 and multiples of 4, and 29,248 bytes of workgroup memory.
// Register blocking, so that each value read from workgroup memory feeds several multiply-adds:
// - scores: thread (qg, kg) scores queries qg and qg + 8 against keys kg and kg + 16, with vec4 sums (16
//   independent chains, not dot products chained over the head);
// - softmax: thread (row r, chunk c) finds row r's max over the block and turns scores 4c … 4c+3 into
//   weights, stored key-major so that the next phase reads four queries' weights of a key in one vec4;
// - P·V: the 32 threads of group g own queries 4g … 4g+3, thread `col` dims 4col … 4col+3;
//   each key's values are read once for four queries.
// Global loads are issued a phase ahead, into registers: a block's values while its scores are computed,
// the next block's keys while its values are summed, so that the barriers do not wait on memory.
// H200, 512 tokens, 16 heads of 128 (tools/attention_cost.mjs), µs per layer: 181 before (one query × two
// keys per thread, 256 threads, staging indices divided by d / 4 at run time); 148 with the blocking and
// constant divisors; 110 with d / 4 a pipeline constant; 90 with two query blocks per workgroup.

#include "attention_params"

@group(0) @binding(1) var<storage, read> q: array<vec4<f32>>;           // [T, heads, d / 4]
@group(0) @binding(2) var<storage, read> kCache: array<vec4<f32>>;      // [maxPos, kvHeads, d / 4]
@group(0) @binding(3) var<storage, read> vCache: array<vec4<f32>>;      // [maxPos, kvHeads, dv / 4]
@group(0) @binding(4) var<storage, read_write> out: array<vec4<f32>>;   // [T, heads, dv / 4]

const QUERIES: u32 = 16u;     // query tokens per workgroup
const KEYS: u32 = 32u;        // positions per staged key/value block
const ROW: u32 = 33u;         // vec4s per staged key/value row: 32, padded so neighbouring keys use other banks
const THREADS: u32 = 128u;
/** d / 4 and dv / 4 as pipeline constants (the host sets them): loops and staging over the head become constant-bounded. */
override HEAD_VEC4S: u32;
override VALUE_VEC4S: u32;
const MASKED = -0x1.fffffep+127f;

var<workgroup> qTile: array<vec4<f32>, 512>;    // [QUERIES][32]: d / 4 used of each row
var<workgroup> kvTile: array<vec4<f32>, 1056>;  // [KEYS][ROW]: the block's keys, then its values
var<workgroup> scores: array<vec4<f32>, 128>;   // [QUERIES][KEYS / 4], MASKED where a query may not look
var<workgroup> weights: array<vec4<f32>, 128>;  // [KEYS][QUERIES / 4]: exp(score − the row's max), 0 where masked
var<workgroup> rowMax: array<vec4<f32>, 4>;     // [QUERIES / 4]: each row's max over the blocks so far

const PER_THREAD: u32 = 8u;   // vec4s a thread stages per block: KEYS · (128 / 4) / THREADS
var<private> staged: array<vec4<f32>, 8>;   // this thread's share of the block being loaded

/**
 * Load this thread's share of the keys (or values) of positions kb … kb + KEYS − 1 into `staged` (zeros past
 * lastKey): vec4 li % 32 of keys li / 32 + (THREADS / 32)·j, rows of w4 ≤ 32 vec4s. Constant divisors: a
 * division by w4 would cost ~20 instructions (NVIDIA has no integer divide), several per staged vec4.
 */
fn loadBlock(values: bool, kb: u32, lastKey: u32, kvh: u32, w4: u32, li: u32) {
  let c = li % 32u;
  for (var j = 0u; j < PER_THREAD; j++) {
    let key = li / 32u + j * (THREADS / 32u);
    var v = vec4<f32>(0.0);
    if (c < w4 && kb + key <= lastKey) {
      let at = ((kb + key) * params.numKvHeads + kvh) * w4 + c;
      if (values) { v = vCache[at]; } else { v = kCache[at]; }
    }
    staged[j] = v;
  }
}

/** Write `staged` into the key/value tile (zeros past the row's w4 vec4s). */
fn storeBlock(li: u32) {
  for (var j = 0u; j < PER_THREAD; j++) { kvTile[(li / 32u + j * (THREADS / 32u)) * ROW + li % 32u] = staged[j]; }
}

fn maxOf(v: vec4<f32>) -> f32 { return max(max(v.x, v.y), max(v.z, v.w)); }
fn sumOf(v: vec4<f32>) -> f32 { return (v.x + v.y) + (v.z + v.w); }

/** Attention for the queries of block qb (tokens 16·qb …) of head h. */
fn attendBlock(h: u32, qb: u32, li: u32) {
  let t0 = qb * QUERIES;
  let kvh = h / (params.numHeads / params.numKvHeads);
  let d4 = HEAD_VEC4S;
  let dv4 = VALUE_VEC4S;
  let H = params.numHeads;
  let rows = min(QUERIES, params.numTokens - t0);      // queries of this block that exist
  let firstKey = firstPosition(params.pos0 + t0);     // of the block's first query
  let lastKey = params.pos0 + t0 + rows - 1u;          // of its last

  for (var e = li; e < QUERIES * d4; e += THREADS) {
    let r = e / d4;
    var v = vec4<f32>(0.0);
    if (r < rows) { v = q[((t0 + r) * H + h) * d4 + e % d4]; }
    qTile[r * 32u + e % d4] = v;
  }

  // scores: queries qg and qg + 8 against keys kg and kg + 16
  let kg = li % 16u;
  let qg = li / 16u;
  // softmax: row r, keys 4c … 4c + 3
  let r = li / 8u;
  let c = li % 8u;
  var softmaxMax = MASKED;   // row r's max so far
  // P·V: queries 4g … 4g + 3, dims 4col … 4col + 3
  let g = li / 32u;
  let col = li % 32u;
  var pvMax = vec4<f32>(MASKED);   // the max its sums are scaled to, per query
  var sums = vec4<f32>(0.0);       // Σ weights, per query
  var acc: array<vec4<f32>, 4>;    // [query 4g + i]

  loadBlock(false, firstKey - firstKey % KEYS, lastKey, kvh, d4, li);
  for (var kb = firstKey - firstKey % KEYS; kb <= lastKey; kb += KEYS) {
    storeBlock(li);   // this block's keys, loaded during the previous block
    workgroupBarrier();
    loadBlock(true, kb, lastKey, kvh, dv4, li);   // its values, in flight while the scores are computed
    var s00 = vec4<f32>(0.0);   // [query qg / qg + 8][key kg / kg + 16], by lane of the head's vec4s
    var s01 = vec4<f32>(0.0);
    var s10 = vec4<f32>(0.0);
    var s11 = vec4<f32>(0.0);
    // i counts to a constant (d / 4 ≤ 32 of it used), so that Tint can bound the tile indices and leave out
    // robustness's clamps
    for (var i = 0u; i < 32u; i++) {
      if (i >= d4) { break; }
      let q0 = qTile[qg * 32u + i];
      let q1 = qTile[(qg + 8u) * 32u + i];
      let k0 = kvTile[kg * ROW + i];
      let k1 = kvTile[(kg + 16u) * ROW + i];
      s00 += q0 * k0;
      s01 += q0 * k1;
      s10 += q1 * k0;
      s11 += q1 * k1;
    }
    for (var a = 0u; a < 2u; a++) {
      let row = qg + 8u * a;
      let last = params.pos0 + t0 + row;
      let first = firstPosition(last);
      for (var b = 0u; b < 2u; b++) {
        let key = kg + 16u * b;
        let p = kb + key;
        let sum = sumOf(select(select(s00, s01, b == 1u), select(s10, s11, b == 1u), a == 1u));
        scores[row * 8u + key / 4u][key % 4u] = select(MASKED, sum * params.scale, row < rows && p >= first && p <= last);
      }
    }
    workgroupBarrier();
    // the values of the block replace its keys; row r's max over the block and its weights (online softmax)
    storeBlock(li);
    var blockMax = softmaxMax;
    for (var j = 0u; j < 8u; j++) { blockMax = max(blockMax, maxOf(scores[r * 8u + j])); }
    let mine = scores[r * 8u + c];
    let w = select(vec4<f32>(0.0), exp(mine - blockMax), mine > vec4<f32>(MASKED));
    for (var j = 0u; j < 4u; j++) { weights[(4u * c + j) * 4u + r / 4u][r % 4u] = w[j]; }
    if (c == 0u) { rowMax[r / 4u][r % 4u] = blockMax; }
    softmaxMax = blockMax;
    workgroupBarrier();
    loadBlock(false, kb + KEYS, lastKey, kvh, d4, li);   // the next block's keys, in flight during P·V
    let newMax = rowMax[g];
    let rescale = exp(pvMax - newMax);
    pvMax = newMax;
    sums *= rescale;
    for (var i = 0u; i < 4u; i++) { acc[i] *= rescale[i]; }
    for (var key = 0u; key < KEYS; key++) {
      let p = weights[key * 4u + g];
      let v = kvTile[key * ROW + col];
      sums += p;
      acc[0] += p.x * v;
      acc[1] += p.y * v;
      acc[2] += p.z * v;
      acc[3] += p.w * v;
    }
    workgroupBarrier();
  }

  for (var i = 0u; i < 4u; i++) {
    let row = 4u * g + i;
    if (row < rows && col < dv4) { out[((t0 + row) * H + h) * dv4 + col] = acc[i] / sums[i]; }
  }
}

// Query block j attends to about j + 1 key blocks: a workgroup takes blocks p and blocks − 1 − p, so that
// every workgroup does the same work and none is left running alone at the end (H200, 512 tokens, 16
// heads of 128: 110 → 90 µs per layer)
@compute @workgroup_size(128)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) groups: vec3u,
        @builtin(local_invocation_index) li: u32) {
  let blocks = (params.numTokens + QUERIES - 1u) / QUERIES;
  let pairs = (blocks + 1u) / 2u;
  let index = wid.x + wid.y * groups.x;   // h · pairs + pair
  if (index >= pairs * params.numHeads) { return; }
  let h = index / pairs;
  let p = index % pairs;
  attendBlock(h, p, li);
  if (blocks - 1u - p != p) {
    workgroupBarrier();   // the second block's q tile replaces the first's
    attendBlock(h, blocks - 1u - p, li);
  }
}
