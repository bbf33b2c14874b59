// Token embeddings: out[t, :] = table[ids[t], :] · scale (GraniteMoE's embedding_multiplier; else 1).

#include "weights"

struct Params {
  numTokens: u32,  // T
  hidden: u32,     // H, in elements
  vocab: u32,      // V, rows of the table
  scale: f32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> ids: array<u32>;          // [T] token ids
@group(0) @binding(2) var<storage, read> table: array<u32>;        // [V, H] packed WEIGHT_DTYPE
@group(0) @binding(3) var<storage, read_write> out: array<f32>;    // [T, H] f32

override WORKGROUP_SIZE: u32 = 64;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let t = gid.y;
  let h = gid.x;
  if (t >= params.numTokens || h >= params.hidden) { return; }
  let id = min(ids[t], params.vocab - 1u);
  let i = id * params.hidden + h;
  out[t * params.hidden + h] = weightValue(table[weightWord(i)], i) * params.scale;
}
