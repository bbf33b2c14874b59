// Included by the attention kernels (attention, attention_tiled): their Params, as layers.ts attention()
// writes them, and the sliding window's first position.

struct Params {
  numTokens: u32,   // T queries, at positions pos0 .. pos0 + T − 1
  numHeads: u32,    // query heads
  numKvHeads: u32,  // key/value heads; numHeads / numKvHeads queries share one
  headDim: u32,     // d of q and k
  valueDim: u32,    // d of v and out
  pos0: u32,
  scale: f32,
  window: u32,      // sliding window in positions; 0 = none
  rotaryDim: u32,   // attention.wgsl with ROPE: elements of a head that rotate, pairs (i, i + rotaryDim/2)
  eps: f32,         // attention.wgsl with QK_NORM: the q/k norms' epsilon
  kNormOffset: u32, // attention.wgsl with QK_NORM: element of the norm weights where k's begin
  clip: f32,        // attention.wgsl with QK_NORM: q and the new key clamped to ±clip after their norms (OLMoE's clip_qkv); 0 = none
}

@group(0) @binding(0) var<uniform> params: Params;

/** The first position the query at position `last` may attend to. */
fn firstPosition(last: u32) -> u32 {
  if (params.window > 0u && last + 1u > params.window) { return last + 1u - params.window; }
  return 0u;
}
