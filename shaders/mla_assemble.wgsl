// DeepSeek-V3 multi-head latent attention: per-head keys and values from the decompressed latent.
//   K[t, h] = [ kv[t, h, :nope] | kRope[t] ]      (the rotated rope part is shared by all heads)
//   V[t, h] = kv[t, h, nope : nope + dv]
// kRope is the last ropeDim elements of each row of the compressed kv (already rotated).

struct Params {
  numTokens: u32,    // T
  numHeads: u32,
  nopeDim: u32,      // qk_nope_head_dim
  ropeDim: u32,      // qk_rope_head_dim
  valueDim: u32,     // v_head_dim
  compressedWidth: u32, // kv_lora_rank + ropeDim: row stride of compressed
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> kv: array<f32>;           // [T, heads, nope + dv]
@group(0) @binding(2) var<storage, read> compressed: array<f32>;   // [T, kvLora + rope]
@group(0) @binding(3) var<storage, read_write> keys: array<f32>;   // [T, heads, nope + rope]
@group(0) @binding(4) var<storage, read_write> values: array<f32>; // [T, heads, dv]

override WORKGROUP_SIZE: u32 = 64;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let i = gid.x;
  let th = gid.y + gid.z * 65535u;   // token · heads + head
  if (th >= params.numTokens * params.numHeads) { return; }
  let t = th / params.numHeads;
  let kvRow = params.nopeDim + params.valueDim;
  let keyRow = params.nopeDim + params.ropeDim;
  if (i < keyRow) {
    var v: f32;
    if (i < params.nopeDim) {
      v = kv[th * kvRow + i];
    } else {
      v = compressed[t * params.compressedWidth + params.compressedWidth - params.ropeDim + (i - params.nopeDim)];
    }
    keys[th * keyRow + i] = v;
  }
  if (i < params.valueDim) { values[th * params.valueDim + i] = kv[th * kvRow + params.nopeDim + i]; }
}
