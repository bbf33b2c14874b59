// Included by the dense tiled multiply (matmul.wgsl; the grouped expert multiplies tile 32 rows:
// tile_multiply.wgsl). A workgroup of 16 × 8 threads owns a 64 × 128 block of outputs: 64 rows of `a`
// (tokens, f32 activations in `x`) against 128 rows of `b` (weight rows, packed in `w`). Per step of 16
// inputs both tiles are staged in workgroup memory input-major, four rows to a vec4, so thread (tx, ty),
// which owns rows 4ty … 4ty+3 and 32+4ty … 32+4ty+3 of `a` and rows 4tx … 4tx+3 and 64+4tx … 64+4tx+3 of
// `b`, reads four vec4s per input for its 64 multiply-adds: 8 × 8 outputs per thread, twice tile_multiply's
// arithmetic per tile read. H100, tools/matmul_variants.mjs, 4096 × 2048 × 2048: 36.9 TFLOPS against 30.1
// for 32 × 128 tiles of 4 × 8; 512 × 2048 × 2048 (fewer tiles than SMs ×4) the same, 24.5.
// The step's 16 inputs are written out as 16 calls with constant input numbers (accumulateStep): as a
// loop (the driver kept it rolled) the same kernel ran at 32.3 TFLOPS, paying index arithmetic per input.
// Staging (tile_staging.wgsl): thread li loads two rows of `a` (rows li / 4 and 32 below it) and two rows
// of `b`. Its stores into the tiles hit 32 different banks: input c of row group g (rows 4g … 4g+3) sits
// in slot (g + 2·(c / 4)) % 16 of `a`'s tile, (g + 4·(c / 8)) % 32 of `b`'s. The `%` is a form whose range
// Tint can bound, so that it leaves out the bounds clamp robustness puts on a staging store (the four
// reads per input, indexed by a parameter, keep theirs: the driver folds them with the constants).
// multiplyTiles (tile_staging.wgsl) runs the steps.
// The including shader declares what tile_staging.wgsl needs, `loadStep(k)`, which calls loadActivations
// for each of its two `a` rows and loadWeights for each of its two `b` rows at step k, and
// `storeAccumulator(v, row, col)` (storeAccumulators).

#include "tile_staging"

const A_ROWS: u32 = 64u;  // rows of `a` (tokens) per workgroup
alias ATile = array<vec4<f32>, 256>; // [input c][swizzled row group]: STEP × A_ROWS / 4 vec4s, 4 KB
/** acc[8h + 4j + i]: row 4ty + 32h + i of `a` against rows 64j + 4tx … +3 of `b`. */
alias Accumulators = array<vec4<f32>, 16>;

/** The `a` rows thread li stages (s = 0, 1), at inputs 4·aChunk(li) … +3 of each step. */
const A_STAGED: u32 = 2u;
fn aStagedRow(li: u32, s: u32) -> u32 { return li / 4u + 32u * s; }

/** Per staged `a` row: its 4 inputs of the step. */
var<private> aStaged: array<vec4<f32>, A_STAGED>;

fn storeStaged(a: ptr<workgroup, ATile>, b: ptr<workgroup, BTile>, li: u32) {
  let ca = 4u * (li % 4u); // 4·aChunk(li), written out: Tint bounds an index only through inline arithmetic
  for (var s = 0u; s < 2u; s++) {
    let row = aStagedRow(li, s);
    for (var e = 0u; e < 4u; e++) { (*a)[(ca + e) * 16u + (row / 4u + 2u * (li % 4u)) % 16u][row % 4u] = aStaged[s][e]; }
  }
  let cb = 8u * (li % 2u); // 8·bChunk(li)
  for (var s = 0u; s < 2u; s++) {
    let row = bRow(li) + 64u * s;
    for (var e = 0u; e < 8u; e++) { (*b)[(cb + e) * 32u + (row / 4u + 4u * (li % 2u)) % 32u][row % 4u] = stagedWeight(s, e); }
  }
}

/** acc[8h + 4j + i] += a[4ty + 32h + i, c] · b[64j + 4tx … +3, c] for staged input c, a constant at every call (accumulateStep). */
fn accumulateInput(acc: ptr<function, Accumulators>, a: ptr<workgroup, ATile>, b: ptr<workgroup, BTile>, local: vec3u, c: u32) {
  let b0 = (*b)[c * 32u + (local.x + 4u * (c / 8u)) % 32u];
  let b1 = (*b)[c * 32u + (local.x + 16u + 4u * (c / 8u)) % 32u];
  let a0 = (*a)[c * 16u + (local.y + 2u * (c / 4u)) % 16u];
  (*acc)[0] += a0.x * b0;
  (*acc)[1] += a0.y * b0;
  (*acc)[2] += a0.z * b0;
  (*acc)[3] += a0.w * b0;
  (*acc)[4] += a0.x * b1;
  (*acc)[5] += a0.y * b1;
  (*acc)[6] += a0.z * b1;
  (*acc)[7] += a0.w * b1;
  let a1 = (*a)[c * 16u + (local.y + 8u + 2u * (c / 4u)) % 16u];
  (*acc)[8] += a1.x * b0;
  (*acc)[9] += a1.y * b0;
  (*acc)[10] += a1.z * b0;
  (*acc)[11] += a1.w * b0;
  (*acc)[12] += a1.x * b1;
  (*acc)[13] += a1.y * b1;
  (*acc)[14] += a1.z * b1;
  (*acc)[15] += a1.w * b1;
}

/** The staged step's STEP inputs, one call per input (see top). */
fn accumulateStep(acc: ptr<function, Accumulators>, a: ptr<workgroup, ATile>, b: ptr<workgroup, BTile>, local: vec3u) {
  accumulateInput(acc, a, b, local, 0u);
  accumulateInput(acc, a, b, local, 1u);
  accumulateInput(acc, a, b, local, 2u);
  accumulateInput(acc, a, b, local, 3u);
  accumulateInput(acc, a, b, local, 4u);
  accumulateInput(acc, a, b, local, 5u);
  accumulateInput(acc, a, b, local, 6u);
  accumulateInput(acc, a, b, local, 7u);
  accumulateInput(acc, a, b, local, 8u);
  accumulateInput(acc, a, b, local, 9u);
  accumulateInput(acc, a, b, local, 10u);
  accumulateInput(acc, a, b, local, 11u);
  accumulateInput(acc, a, b, local, 12u);
  accumulateInput(acc, a, b, local, 13u);
  accumulateInput(acc, a, b, local, 14u);
  accumulateInput(acc, a, b, local, 15u);
}

/**
 * Hands every accumulator to the including shader's storeAccumulator(v, row, col): row `row` of the tile's
 * `a` rows against its `b` rows col … col + 3. Written out with constant indices: output loops that the
 * driver keeps rolled index the array at run time, which moves all 64 accumulators to memory (a multiply
 * whose stores took the bias and three output parts ran 15× slower on an H100).
 */
fn storeAccumulators(acc: ptr<function, Accumulators>, local: vec3u) {
  let r0 = 4u * local.y;
  let c0 = 4u * local.x;
  storeAccumulator((*acc)[0], r0, c0);
  storeAccumulator((*acc)[1], r0 + 1u, c0);
  storeAccumulator((*acc)[2], r0 + 2u, c0);
  storeAccumulator((*acc)[3], r0 + 3u, c0);
  storeAccumulator((*acc)[4], r0, c0 + 64u);
  storeAccumulator((*acc)[5], r0 + 1u, c0 + 64u);
  storeAccumulator((*acc)[6], r0 + 2u, c0 + 64u);
  storeAccumulator((*acc)[7], r0 + 3u, c0 + 64u);
  storeAccumulator((*acc)[8], r0 + 32u, c0);
  storeAccumulator((*acc)[9], r0 + 32u + 1u, c0);
  storeAccumulator((*acc)[10], r0 + 32u + 2u, c0);
  storeAccumulator((*acc)[11], r0 + 32u + 3u, c0);
  storeAccumulator((*acc)[12], r0 + 32u, c0 + 64u);
  storeAccumulator((*acc)[13], r0 + 32u + 1u, c0 + 64u);
  storeAccumulator((*acc)[14], r0 + 32u + 2u, c0 + 64u);
  storeAccumulator((*acc)[15], r0 + 32u + 3u, c0 + 64u);
}
