// Included by shaders that read checkpoint weights. Weights stay as stored, packed in array<u32>:
// WEIGHT_DTYPE 0 = f32 (one per word), 1 = bf16, 2 = f16 (two per word, element 2j in the low half).
// Math is f32: bf16 widens by a shift, f16 by unpack2x16float (core WGSL, no shader-f16 needed).

override WEIGHT_DTYPE: u32 = 1u;

/** Index of the u32 word that holds element i. */
fn weightWord(i: u32) -> u32 {
  return select(i >> 1u, i, WEIGHT_DTYPE == 0u);
}

/** Element i as f32, given the word weightWord(i) read from its array. */
fn weightValue(word: u32, i: u32) -> f32 {
  if (WEIGHT_DTYPE == 0u) { return bitcast<f32>(word); }
  let bits = select(word & 0xffffu, word >> 16u, (i & 1u) == 1u);
  if (WEIGHT_DTYPE == 1u) { return bitcast<f32>(bits << 16u); }
  return unpack2x16float(bits).x;
}

/** The two 16-bit values of a packed bf16/f16 word (element 2j in the low half) as f32. */
fn unpackPair(word: u32) -> vec2<f32> {
  if (WEIGHT_DTYPE == 1u) { return vec2<f32>(bitcast<f32>(word << 16u), bitcast<f32>(word & 0xffff0000u)); }
  return unpack2x16float(word);
}

/**
 * x · (the weights in one 16-byte word): 8 bf16/f16 values against x0, x1 (16 consecutive bytes each of
 * f32 x), or 4 f32 values against x0 alone. Used by the kernels that stream rows 16 bytes per load.
 */
fn dotWord(word: vec4<u32>, x0: vec4<f32>, x1: vec4<f32>) -> f32 {
  if (WEIGHT_DTYPE == 0u) { return dot(bitcast<vec4<f32>>(word), x0); }
  return dot(vec4<f32>(unpackPair(word.x), unpackPair(word.y)), x0) + dot(vec4<f32>(unpackPair(word.z), unpackPair(word.w)), x1);
}

/** Values of one 16-byte word: 4 for f32 weights, 8 for bf16/f16. */
fn valuesPerWord() -> u32 {
  return select(8u, 4u, WEIGHT_DTYPE == 0u);
}
