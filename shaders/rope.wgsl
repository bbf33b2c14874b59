// Rotary position embedding, in place on x [T, heads, headStride] for tokens at positions pos0 + t, one
// workgroup per (token, head). rotaryDim elements from headOffset rotate; pairs are (i, i + rotaryDim/2)
// as in transformers' rotate_half. INTERLEAVED = 1 first de-interleaves pairs (2i, 2i+1) into that layout
// (DeepSeek-V3's apply_rotary_pos_emb_interleave), which is why all reads finish before any write.
// cos/sin come from tables the host computes once per model (exact cos of the f32 angle, times the
// variant's attention factor): GPU cos/sin are only accurate to ~1e-4 on some drivers.

struct Params {
  numTokens: u32,   // T
  numHeads: u32,
  headStride: u32,  // elements between heads
  headOffset: u32,  // first rotating element inside a head
  rotaryDim: u32,   // elements that rotate (even, ≤ 2 · WORKGROUP_SIZE)
  pos0: u32,        // position of token 0
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> cosTable: array<f32>;    // [maxPos, rotaryDim / 2]
@group(0) @binding(2) var<storage, read> sinTable: array<f32>;    // [maxPos, rotaryDim / 2]
@group(0) @binding(3) var<storage, read_write> x: array<f32>;     // [T, heads, headStride] f32

override INTERLEAVED: u32 = 0;
const WORKGROUP_SIZE: u32 = 64u;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) groups: vec3u,
        @builtin(local_invocation_index) i: u32) {
  let th = wid.x + wid.y * groups.x;   // token · heads + head
  if (th >= params.numTokens * params.numHeads) { return; }
  let half = params.rotaryDim / 2u;
  let base = th * params.headStride + params.headOffset;
  let rotates = i < half;
  var a = 0.0;
  var b = 0.0;
  if (rotates) {
    a = x[base + select(i, 2u * i, INTERLEAVED == 1u)];
    b = x[base + select(i + half, 2u * i + 1u, INTERLEAVED == 1u)];
  }
  workgroupBarrier();
  if (rotates) {
    let pos = params.pos0 + th / params.numHeads;
    let c = cosTable[pos * half + i];
    let s = sinTable[pos * half + i];
    x[base + i] = a * c - b * s;
    x[base + i + half] = b * c + a * s;
  }
}
