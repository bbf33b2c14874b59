// Rotary position embedding, in place, for tokens at positions pos0 + t, on one or two tensors in one
// dispatch (q and k): tensor A is [T, headsA, strideA] from offsetA, tensor B likewise (headsB = 0: none).
// One workgroup per (token, head) of A, then of B. rotaryDim elements from a head's start rotate; pairs
// are (i, i + rotaryDim/2) as in transformers' rotate_half. INTERLEAVED = 1 first de-interleaves pairs
// (2i, 2i+1) into that layout (DeepSeek-V3's apply_rotary_pos_emb_interleave), which is why all reads
// finish before any write. An offset can point into a cache's rows (k rotated where it is stored).
// cos/sin come from tables the host computes once per model (exact cos of the f32 angle, times the
// variant's attention factor): GPU cos/sin are only accurate to ~1e-4 on some drivers.

struct Params {
  numTokens: u32,   // T
  rotaryDim: u32,   // elements that rotate (even, ≤ 2 · WORKGROUP_SIZE)
  pos0: u32,        // position of token 0
  headsA: u32,
  strideA: u32,     // elements between heads (and between a token's last head and the next token's first)
  offsetA: u32,     // element of A where token 0's head 0 starts rotating
  headsB: u32,
  strideB: u32,
  offsetB: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> cosTable: array<f32>;    // [maxPos, rotaryDim / 2]
@group(0) @binding(2) var<storage, read> sinTable: array<f32>;    // [maxPos, rotaryDim / 2]
@group(0) @binding(3) var<storage, read_write> xa: array<f32>;    // [T, headsA, strideA] f32
@group(0) @binding(4) var<storage, read_write> xb: array<f32>;    // [T, headsB, strideB] f32 (placeholder when headsB = 0)

override INTERLEAVED: u32 = 0;
const WORKGROUP_SIZE: u32 = 64u;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) groups: vec3u,
        @builtin(local_invocation_index) i: u32) {
  let g = wid.x + wid.y * groups.x;
  let inA = g < params.numTokens * params.headsA;
  let th = select(g - params.numTokens * params.headsA, g, inA);   // token · heads + head, in its tensor
  let heads = select(params.headsB, params.headsA, inA);
  if (th >= params.numTokens * heads) { return; }
  let half = params.rotaryDim / 2u;
  let base = select(th * params.strideB + params.offsetB, th * params.strideA + params.offsetA, inA);
  let rotates = i < half;
  let ia = base + select(i, 2u * i, INTERLEAVED == 1u);
  let ib = base + select(i + half, 2u * i + 1u, INTERLEAVED == 1u);
  var a = 0.0;
  var b = 0.0;
  if (rotates) {
    if (inA) { a = xa[ia]; b = xa[ib]; } else { a = xb[ia]; b = xb[ib]; }
  }
  workgroupBarrier();
  if (rotates) {
    let pos = params.pos0 + th / heads;
    let c = cosTable[pos * half + i];
    let s = sinTable[pos * half + i];
    let ra = a * c - b * s;
    let rb = b * c + a * s;
    if (inA) { xa[base + i] = ra; xa[base + i + half] = rb; } else { xb[base + i] = ra; xb[base + i + half] = rb; }
  }
}
