// Rotary position embedding, in place on x [T, heads, headStride] for tokens at positions pos0 + t.
// rotaryDim elements from headOffset rotate; pairs are (i, i + rotaryDim/2) as in transformers'
// rotate_half. cos/sin come from tables the host computes once per model (exact cos of the f32 angle,
// times the variant's attention factor): GPU cos/sin are only accurate to ~1e-4 on some drivers.

struct Params {
  numTokens: u32,   // T
  numHeads: u32,
  headStride: u32,  // elements between heads
  headOffset: u32,  // first rotating element inside a head
  rotaryDim: u32,   // elements that rotate (even)
  pos0: u32,        // position of token 0
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> cosTable: array<f32>;    // [maxPos, rotaryDim / 2]
@group(0) @binding(2) var<storage, read> sinTable: array<f32>;    // [maxPos, rotaryDim / 2]
@group(0) @binding(3) var<storage, read_write> x: array<f32>;     // [T, heads, headStride] f32

override WORKGROUP_SIZE: u32 = 64;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let half = params.rotaryDim / 2u;
  let i = gid.x;            // pair index < half
  let th = gid.y;           // token · heads + head
  if (i >= half || th >= params.numTokens * params.numHeads) { return; }
  let pos = params.pos0 + th / params.numHeads;
  let c = cosTable[pos * half + i];
  let s = sinTable[pos * half + i];
  let base = th * params.headStride + params.headOffset;
  let a = x[base + i];
  let b = x[base + i + half];
  x[base + i] = a * c - b * s;
  x[base + i + half] = b * c + a * s;
}
