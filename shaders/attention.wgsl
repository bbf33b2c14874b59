// Causal attention with grouped-query heads over a KV cache, one workgroup per (query token, head) (decode,
// and heads attention_tiled.wgsl does not take):
//   out[t, h, :] = Σ_p softmax_p(scale · q[t,h,:] · K[p, h / group, :]) · V[p, h / group, :]
// over cached positions p ≤ pos0 + t (and p > pos0 + t − window when a sliding window is set).
// Positions are visited in blocks of 64 with an online softmax (running max and sum), so any context
// length works with fixed workgroup memory: four threads share each position's dot product, the block's
// max, weights and sum are computed once across the workgroup, then each value dim sums the block's
// weighted values (two threads per dim, every other position each, when dv ≤ 128; head dims up to 256).
// Loads of keys are issued eight at a time, and a block's values all at once before its keys are scored:
// with one workgroup per head a decode step has few threads, so waiting on memory once per element, or
// for the values only after the scores, would dominate.
// With ROPE (a decode step, T = 1): RoPE is applied here instead of in a dispatch of its own. q is rotated
// as it is staged; the new key comes raw from kNew, is rotated into workgroup memory, used for the newest
// position, and written to its cache row by the first query head of its group (no workgroup reads that
// row from the cache in this dispatch).
// With QK_NORM (and ROPE) q and the new key are RMS-normalised before they rotate, replacing the q/k norm
// dispatches: 1 = over the whole projection (OLMoE: every workgroup sums the squares of its token's q row
// and of the new k row, a few KB), 2 = over each head (Qwen3-MoE); then clamped to ±clip when set
// (OLMoE's clip_qkv comes after its norms).
// Split (num_workgroups.z = S > 1; long contexts, where one workgroup per head would leave the GPU
// mostly idle): workgroup z takes blocks z, z + S, z + 2S, … of the query's positions and writes its
// partial softmax to out as a row of [valueDim + 2]: Σ exp(score − m) · v per dim, then m (its running
// max) and Σ exp(score − m); attention_combine.wgsl merges the S rows. A split with no block writes
// m = −f32 max and a zero sum.

#include "attention_params"
#include "weights"

@group(0) @binding(1) var<storage, read> q: array<f32>;           // [T, heads, d]
@group(0) @binding(2) var<storage, read_write> kCache: array<f32>; // [maxPos, kvHeads, d] (ROPE writes row pos0)
@group(0) @binding(3) var<storage, read> vCache: array<f32>;      // [maxPos, kvHeads, dv]
@group(0) @binding(4) var<storage, read_write> out: array<f32>;   // [T, heads, dv]; split: [T, heads, S, dv + 2]
@group(0) @binding(5) var<storage, read> cosTable: array<f32>;    // ROPE: [maxPos, rotaryDim / 2] (else a placeholder)
@group(0) @binding(6) var<storage, read> sinTable: array<f32>;
@group(0) @binding(7) var<storage, read> kNew: array<f32>;        // ROPE: [kvHeads, d] the new token's raw k
@group(0) @binding(8) var<storage, read> qkNorm: array<u32>;     // QK_NORM: q's norm weight [heads·d] (1) or [d] (2),
                                                                  // then k's from element kNormOffset; packed WEIGHT_DTYPE

override ROPE: bool = false;
override QK_NORM: u32 = 0u;

const BLOCK: u32 = 64u;            // positions scored per step
const SPLIT: u32 = 4u;             // threads per position's dot product
const WORKGROUP_SIZE: u32 = BLOCK * SPLIT;
const MAX_DIM: u32 = 256u;         // of q, k and v: one value dim per thread

var<workgroup> query: array<f32, MAX_DIM>;
var<workgroup> newKey: array<f32, MAX_DIM>;     // ROPE: the new token's rotated key
var<workgroup> dotParts: array<f32, WORKGROUP_SIZE>;
var<workgroup> scores: array<f32, BLOCK>;
#include "workgroup_reduce"

/** Element i of q (fromQuery) or of kNew. */
fn projected(i: u32, fromQuery: bool) -> f32 {
  if (fromQuery) { return q[i]; }
  return kNew[i];
}

/**
 * QK_NORM: this thread's share of Σ v² over `width` values of q or kNew from `base`, eight loads in
 * flight at a time (OLMoE's rows of 2,048 are one round: a loop of dependent loads was eight waits on
 * memory per row, before every head's first score; H200, OLMoE decode step 1,563–1,574 → 1,523–1,537 µs).
 * Loading the thread's own q/k elements and norm weights before these sums too made it 2,136 µs.
 */
fn squares(lid: u32, width: u32, base: u32, fromQuery: bool) -> f32 {
  var sum = 0.0;
  var i = lid;
  for (; i + 7u * WORKGROUP_SIZE < width; i += 8u * WORKGROUP_SIZE) {
    var v: array<f32, 8>;
    for (var u = 0u; u < 8u; u++) { v[u] = projected(base + i + u * WORKGROUP_SIZE, fromQuery); }
    for (var u = 0u; u < 8u; u++) { sum += v[u] * v[u]; }
  }
  for (; i < width; i += WORKGROUP_SIZE) {
    let v = projected(base + i, fromQuery);
    sum += v * v;
  }
  return sum;
}

/** Element i of a head at position pos, rotated: x = its value, partner = element i ± rotaryDim/2. */
fn rotate(x: f32, partner: f32, i: u32, pos: u32) -> f32 {
  let half = params.rotaryDim / 2u;
  if (i >= 2u * half) { return x; }
  let c = cosTable[pos * half + i % half];
  let s = sinTable[pos * half + i % half];
  return select(x * c + partner * s, x * c - partner * s, i < half);
}

/** The element that element i of a head rotates with (itself past the rotary dims). */
fn partnerOf(i: u32) -> u32 {
  let half = params.rotaryDim / 2u;
  if (i >= 2u * half) { return i; }
  return select(i - half, i + half, i < half);
}

/**
 * q · a cached key from element kBase, over dims part, part + SPLIT, …: thirty-two loads issued before they
 * are used (a head of 128: one wait on memory, not four; H200 decode step OLMoE 1,536 → 1,503 µs, Qwen
 * 2,620 → 2,568 µs), then sixteen (a head of 64: granite 1,270 → 1,251 µs), eight, one.
 */
fn cachedKeyDot(kBase: u32, part: u32, d: u32) -> f32 {
  var dot = 0.0;
  var i = part;
  for (; i + 31u * SPLIT < d; i += 32u * SPLIT) {
    var k: array<f32, 32>;
    for (var u = 0u; u < 32u; u++) { k[u] = kCache[kBase + i + u * SPLIT]; }
    for (var u = 0u; u < 32u; u++) { dot += query[i + u * SPLIT] * k[u]; }
  }
  for (; i + 15u * SPLIT < d; i += 16u * SPLIT) {
    var k: array<f32, 16>;
    for (var u = 0u; u < 16u; u++) { k[u] = kCache[kBase + i + u * SPLIT]; }
    for (var u = 0u; u < 16u; u++) { dot += query[i + u * SPLIT] * k[u]; }
  }
  for (; i + 7u * SPLIT < d; i += 8u * SPLIT) {
    let k0 = kCache[kBase + i];
    let k1 = kCache[kBase + i + SPLIT];
    let k2 = kCache[kBase + i + 2u * SPLIT];
    let k3 = kCache[kBase + i + 3u * SPLIT];
    let k4 = kCache[kBase + i + 4u * SPLIT];
    let k5 = kCache[kBase + i + 5u * SPLIT];
    let k6 = kCache[kBase + i + 6u * SPLIT];
    let k7 = kCache[kBase + i + 7u * SPLIT];
    dot += query[i] * k0 + query[i + SPLIT] * k1 + query[i + 2u * SPLIT] * k2 + query[i + 3u * SPLIT] * k3
         + query[i + 4u * SPLIT] * k4 + query[i + 5u * SPLIT] * k5 + query[i + 6u * SPLIT] * k6 + query[i + 7u * SPLIT] * k7;
  }
  for (; i < d; i += SPLIT) { dot += query[i] * kCache[kBase + i]; }
  return dot;
}

/** One value dim at 32 of a block's positions, first + step · i (i = 0 … 31): component c of vi is i = 4·(vi's index) + c. */
struct BlockValues {
  v0: vec4<f32>, v1: vec4<f32>, v2: vec4<f32>, v3: vec4<f32>,
  v4: vec4<f32>, v5: vec4<f32>, v6: vec4<f32>, v7: vec4<f32>,
}

/** v at positions j, j + step, j + 2·step, j + 3·step of the block (v of position j at vBase + j · stride); 0 from count on. */
fn fourValues(vBase: u32, stride: u32, j: u32, step: u32, count: u32) -> vec4<f32> {
  // branch-free: a position past count (or a dim past dv) still loads some word of the cache (robustness
  // keeps it in bounds) and drops it, so all 32 loads of a thread are in flight together
  var v: vec4<f32>;
  for (var c = 0u; c < 4u; c++) {
    let jc = j + c * step;
    v[c] = select(0.0, vCache[vBase + jc * stride], jc < count);
  }
  return v;
}

/**
 * A block's values for one dim, loaded before its scores exist so that their latency overlaps the key
 * dot products and the softmax (positions first, first + step, …, 32 of them).
 */
fn loadValues(vBase: u32, stride: u32, first: u32, step: u32, count: u32) -> BlockValues {
  let s4 = 4u * step;
  return BlockValues(
    fourValues(vBase, stride, first, step, count), fourValues(vBase, stride, first + s4, step, count),
    fourValues(vBase, stride, first + 2u * s4, step, count), fourValues(vBase, stride, first + 3u * s4, step, count),
    fourValues(vBase, stride, first + 4u * s4, step, count), fourValues(vBase, stride, first + 5u * s4, step, count),
    fourValues(vBase, stride, first + 6u * s4, step, count), fourValues(vBase, stride, first + 7u * s4, step, count),
  );
}

/** The block's weights scores[j] at positions first + step · i (i = 4m … 4m + 3). */
fn fourScores(j: u32, step: u32) -> vec4<f32> {
  return vec4<f32>(scores[j], scores[j + step], scores[j + 2u * step], scores[j + 3u * step]);
}

/** Σ scores[j] · v[j] over the loaded positions (values past count were loaded as 0, so the stale weights there add nothing). */
fn sumValues(b: BlockValues, first: u32, step: u32) -> f32 {
  let s4 = 4u * step;
  return dot(b.v0, fourScores(first, step)) + dot(b.v1, fourScores(first + s4, step))
       + dot(b.v2, fourScores(first + 2u * s4, step)) + dot(b.v3, fourScores(first + 3u * s4, step))
       + dot(b.v4, fourScores(first + 4u * s4, step)) + dot(b.v5, fourScores(first + 5u * s4, step))
       + dot(b.v6, fourScores(first + 6u * s4, step)) + dot(b.v7, fourScores(first + 7u * s4, step));
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) groups: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let index = wid.x + wid.y * groups.x;   // t · heads + h
  if (index >= params.numTokens * params.numHeads) { return; }
  let split = wid.z;                        // of S = groups.z: this workgroup's share of the positions
  let t = index / params.numHeads;
  let h = index % params.numHeads;
  let kvh = h / (params.numHeads / params.numKvHeads);
  let d = params.headDim;
  let dv = params.valueDim;
  let last = params.pos0 + t;                       // the query's own position
  let first = firstPosition(last);
  // QK_NORM: each element times 1/RMS and its norm weight (whole projection: the head's slice of it)
  var qScale = 1.0;
  var kScale = 1.0;
  let wholeRow = QK_NORM == 1u;
  if (QK_NORM != 0u) {
    // both rows' loads go out before either sum is reduced
    let qWidth = select(d, params.numHeads * d, wholeRow);
    let kWidth = select(d, params.numKvHeads * d, wholeRow);
    let qSquares = squares(lid, qWidth, select(index * d, t * params.numHeads * d, wholeRow), true);
    let kSquares = squares(lid, kWidth, select(kvh * d, 0u, wholeRow), false);
    qScale = inverseSqrt(workgroupSum(lid, qSquares) / f32(qWidth) + params.eps);
    kScale = inverseSqrt(workgroupSum(lid, kSquares) / f32(kWidth) + params.eps);
  }
  let qWeightBase = select(0u, h * d, wholeRow);
  let kWeightBase = params.kNormOffset + select(0u, kvh * d, wholeRow);
  for (var i = lid; i < d; i += WORKGROUP_SIZE) {
    if (ROPE) {
      let j = partnerOf(i);
      var qi = q[index * d + i] * qScale;
      var qj = q[index * d + j] * qScale;
      var ki = kNew[kvh * d + i] * kScale;
      var kj = kNew[kvh * d + j] * kScale;
      if (QK_NORM != 0u) {
        qi *= weightValue(qkNorm[weightWord(qWeightBase + i)], qWeightBase + i);
        qj *= weightValue(qkNorm[weightWord(qWeightBase + j)], qWeightBase + j);
        ki *= weightValue(qkNorm[weightWord(kWeightBase + i)], kWeightBase + i);
        kj *= weightValue(qkNorm[weightWord(kWeightBase + j)], kWeightBase + j);
        if (params.clip > 0.0) {
          qi = clamp(qi, -params.clip, params.clip);
          qj = clamp(qj, -params.clip, params.clip);
          ki = clamp(ki, -params.clip, params.clip);
          kj = clamp(kj, -params.clip, params.clip);
        }
      }
      query[i] = rotate(qi, qj, i, last);
      newKey[i] = rotate(ki, kj, i, last);
    } else {
      query[i] = q[index * d + i];
    }
  }
  workgroupBarrier();
  if (ROPE && split == 0u && h % (params.numHeads / params.numKvHeads) == 0u) {
    for (var i = lid; i < d; i += WORKGROUP_SIZE) { kCache[(last * params.numKvHeads + kvh) * d + i] = newKey[i]; }
  }

  var runningMax = -0x1.fffffep+127f;
  var runningSum = 0.0;
  var acc = 0.0;                                    // one value dim, over this thread's positions
  let position = lid / SPLIT;                       // of the block, for the scores
  let part = lid % SPLIT;                           // dims part, part + SPLIT, … of its dot product
  // values: two threads per dim (each every other position of a block) when dv ≤ 128, else one
  let halves = select(1u, 2u, dv <= WORKGROUP_SIZE / 2u);
  let dim = lid % (WORKGROUP_SIZE / halves);
  let half = lid / (WORKGROUP_SIZE / halves);

  let vStride = params.numKvHeads * dv;
  for (var block = first + split * BLOCK; block <= last; block += groups.z * BLOCK) {
    let count = min(BLOCK, last + 1u - block);
    // this thread's values of the block: 32 positions, or with one thread per dim all 64 (two loads)
    let vBase = ((block * params.numKvHeads + kvh) * dv) + min(dim, dv - 1u);
    let values = loadValues(vBase, vStride, half, halves, count);
    var later = BlockValues();
    if (halves == 1u) { later = loadValues(vBase, vStride, 32u, 1u, count); }
    // SPLIT threads score each position of the block
    let p = block + position;
    var dot = 0.0;
    if (p <= last) {
      if (ROPE && p == last) {
        for (var i = part; i < d; i += SPLIT) { dot += query[i] * newKey[i]; }
      } else {
        dot = cachedKeyDot((p * params.numKvHeads + kvh) * d, part, d);
      }
    }
    dotParts[lid] = dot;
    workgroupBarrier();
    var score = -0x1.fffffep+127f;
    if (lid < count) {
      score = (dotParts[lid * SPLIT] + dotParts[lid * SPLIT + 1u] + dotParts[lid * SPLIT + 2u] + dotParts[lid * SPLIT + 3u]) * params.scale;
    }
    // online softmax: the block's max and sum over the workgroup, each weight computed once
    let blockMax = max(runningMax, workgroupMax(lid, score));
    var weight = 0.0;
    if (lid < count) {
      weight = exp(score - blockMax);
      scores[lid] = weight;
    }
    let blockSum = workgroupSum(lid, weight);       // its barriers also publish scores[]
    let correction = exp(runningMax - blockMax);
    runningSum = runningSum * correction + blockSum;
    acc *= correction;
    runningMax = blockMax;
    if (dim < dv) {
      acc += sumValues(values, half, halves);
      if (halves == 1u) { acc += sumValues(later, 32u, 1u); }
    }
    workgroupBarrier();                             // scores[] is rewritten by the next block
  }

  if (halves == 2u) {
    dotParts[lid] = acc;
    workgroupBarrier();
    if (half == 0u) { acc += dotParts[lid + WORKGROUP_SIZE / 2u]; }
  }
  if (groups.z == 1u) {
    if (half == 0u && dim < dv) { out[index * dv + dim] = acc / runningSum; }
    return;
  }
  let row = (index * groups.z + split) * (dv + 2u);
  if (half == 0u && dim < dv) { out[row + dim] = acc; }
  if (lid == 0u) {
    out[row + dv] = runningMax;
    out[row + dv + 1u] = runningSum;
  }
}
