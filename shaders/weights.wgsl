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
