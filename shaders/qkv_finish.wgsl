// A prefill's q/k/v projections finished in one pass per token, after the stacked q/k/v multiply left its
// S partial sums (matmul.wgsl, SPLIT_PHASE = 1, S ≥ 1):
//   row = Σ_z partials[z, t, :] + bias                       [q (heads·d) | k (kvHeads·d) | v (kvHeads·d)]
//   q, k = q_norm(q), k_norm(k)      (QK_NORM 1: over the whole projection, OLMoE; 2: per head, Qwen3-MoE)
//   q, k, v = clamp(±clip)           (clip_qkv, after the norms as OlmoeAttention does; clip 0: none)
//   q, k = RoPE(q, k) at position pos0 + t          (pairs (i, i + rotaryDim/2) as in rotate_half)
//   q → out q [T, heads·d]; k, v → row pos0 + t of the layer's caches [maxPos, kvHeads·d]
// This replaces four dispatches of a prefill layer (the partials' sum, q norm, k norm, RoPE) with one.
// One workgroup per token: q and k stay in workgroup memory between the sums of squares and the writes
// (each rotated element needs its partner's normalised value; a thread finishes both of a pair). Needs
// heads·d + kvHeads·d ≤ ROW_FLOATS and every width a multiple of 4 (the host checks both). H200, 512
// tokens: 50 µs per OLMoE layer, where the four dispatches it replaces took 92; two workgroups per token
// (q, then k and v) took 55.

#include "weights"

struct Params {
  numTokens: u32,   // T
  splits: u32,      // S partial sums
  qWidth: u32,      // heads · d
  kvWidth: u32,     // kvHeads · d
  headDim: u32,     // d
  hasBias: u32,
  eps: f32,         // QK_NORM
  kNormOffset: u32, // QK_NORM: element of the norm weights where k's begin
  clip: f32,        // 0: none
  rotaryDim: u32,   // elements of a head that rotate (even, ≤ d)
  pos0: u32,        // position of token 0
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> partials: array<vec4<f32>>;  // [S, T, (qWidth + 2·kvWidth) / 4]
@group(0) @binding(2) var<storage, read> bias: array<u32>;            // [qWidth + 2·kvWidth] packed (bound to normWeight or partials when unused)
@group(0) @binding(3) var<storage, read> normWeight: array<u32>;      // QK_NORM: q's weight [heads·d] or [d], then k's from kNormOffset
@group(0) @binding(4) var<storage, read> cosTable: array<f32>;        // [maxPos, rotaryDim / 2]
@group(0) @binding(5) var<storage, read> sinTable: array<f32>;
@group(0) @binding(6) var<storage, read_write> qOut: array<f32>;      // [T, qWidth]
@group(0) @binding(7) var<storage, read_write> kCache: array<f32>;    // [maxPos, kvWidth]
@group(0) @binding(8) var<storage, read_write> vCache: array<vec4<f32>>; // [maxPos, kvWidth / 4]

#include "split_partials"

override QK_NORM: u32 = 0u;
const ROW_FLOATS: u32 = 7168u; // layers.ts QKV_FINISH_FLOATS
const MAX_HEADS: u32 = 256u;   // QK_NORM 2: heads + kvHeads
const WORKGROUP_SIZE: u32 = 256u;

var<workgroup> row: array<vec4<f32>, 1792>;     // q then k of this token: ROW_FLOATS / 4
var<workgroup> headScale: array<f32, 256>;      // QK_NORM 2: 1 / RMS of each q head, then each k head

fn biasOf(i: u32) -> f32 {
  if (params.hasBias == 1u) { return weightValue(bias[weightWord(i)], i); }
  return 0.0;
}

fn clipped(v: f32) -> f32 {
  return select(v, clamp(v, -params.clip, params.clip), params.clip > 0.0);
}

/** Element e of q|k (q first) as normalised (not clipped): the stored sum times its scale and weight. */
fn normalised(e: u32, qScale: f32, kScale: f32) -> f32 {
  let v = row[e / 4u][e % 4u];
  if (QK_NORM == 0u) { return v; }
  let inK = e >= params.qWidth;
  let j = select(e, e - params.qWidth, inK);   // element within q or within k
  var scale = select(qScale, kScale, inK);
  var w = j;
  if (QK_NORM == 2u) {
    let d = params.headDim;
    scale = headScale[select(j / d, params.qWidth / d + j / d, inK)];
    w = j % d;
  }
  let wi = select(w, params.kNormOffset + w, inK);
  return v * scale * weightValue(normWeight[weightWord(wi)], wi);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) groups: vec3u,
        @builtin(local_invocation_index) li: u32) {
  let t = wid.x + wid.y * groups.x;
  if (t >= params.numTokens) { return; }   // uniform: the whole workgroup leaves
  let T = params.numTokens;
  let qk4 = (params.qWidth + params.kvWidth) / 4u;
  let n4 = qk4 + params.kvWidth / 4u;
  let cacheRow = params.pos0 + t;

  // Σ over the partials (+ bias): q and k into workgroup memory (with their squares), v clipped to its cache
  var qSquares = 0.0;
  var kSquares = 0.0;
  for (var c = li; c < n4; c += WORKGROUP_SIZE) {
    var v = sumOfPartials(t * n4 + c, T * n4);
    for (var i = 0u; i < 4u; i++) { v[i] += biasOf(4u * c + i); }
    if (c < qk4) {
      row[c] = v;
      if (4u * c < params.qWidth) { qSquares += dot(v, v); } else { kSquares += dot(v, v); }
    } else {
      vCache[(cacheRow * params.kvWidth) / 4u + c - qk4] = vec4<f32>(clipped(v.x), clipped(v.y), clipped(v.z), clipped(v.w));
    }
  }
  var qScale = 1.0;
  var kScale = 1.0;
  if (QK_NORM == 1u) {
    let sums = sumBoth(li, vec2<f32>(qSquares, kSquares));
    qScale = inverseSqrt(sums.x / f32(params.qWidth) + params.eps);
    kScale = inverseSqrt(sums.y / f32(params.kvWidth) + params.eps);
  }
  workgroupBarrier();
  if (QK_NORM == 2u) {
    // one thread per head sums its d squares
    let d = params.headDim;
    let heads = (params.qWidth + params.kvWidth) / d;
    for (var h = li; h < min(heads, MAX_HEADS); h += WORKGROUP_SIZE) {
      var s = 0.0;
      for (var i = 0u; i < d; i++) { let v = row[(h * d + i) / 4u][(h * d + i) % 4u]; s += v * v; }
      headScale[h] = inverseSqrt(s / f32(d) + params.eps);
    }
    workgroupBarrier();
  }

  // normalise, clip, rotate; q to its output, k to its cache row. Slot m of a head (d − rotaryDim/2 of
  // them) is the rotating pair (m, m + half) for m < half, else the element m + half that does not rotate.
  let d = params.headDim;
  let half = params.rotaryDim / 2u;
  let slots = d - half;
  let heads = (params.qWidth + params.kvWidth) / d;
  for (var g = li; g < heads * slots; g += WORKGROUP_SIZE) {
    let m = g % slots;
    let e = (g / slots) * d + m;   // the slot's first element in q|k
    if (m < half) {
      let a = clipped(normalised(e, qScale, kScale));
      let b = clipped(normalised(e + half, qScale, kScale));
      let f = cacheRow * half + m;
      let c = cosTable[f];
      let s = sinTable[f];
      store(e, a * c - b * s, t, cacheRow);
      store(e + half, b * c + a * s, t, cacheRow);
    } else {
      store(e + half, clipped(normalised(e + half, qScale, kScale)), t, cacheRow);
    }
  }
}

/** Element e of q|k, finished: q's to its output row t, k's to its cache row. */
fn store(e: u32, value: f32, t: u32, cacheRow: u32) {
  if (e < params.qWidth) {
    qOut[t * params.qWidth + e] = value;
  } else {
    kCache[cacheRow * params.kvWidth + e - params.qWidth] = value;
  }
}

var<workgroup> pairs: array<vec2<f32>, WORKGROUP_SIZE>;

/** Both sums of squares (q's, k's) over the workgroup in one tree. */
fn sumBoth(lid: u32, value: vec2<f32>) -> vec2<f32> {
  pairs[lid] = value;
  for (var stride = WORKGROUP_SIZE / 2u; stride > 0u; stride /= 2u) {
    workgroupBarrier();
    if (lid < stride) { pairs[lid] += pairs[lid + stride]; }
  }
  workgroupBarrier();
  return pairs[0];
}
