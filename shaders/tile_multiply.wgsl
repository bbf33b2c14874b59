// Included by the grouped expert multiplies' 32-pair tiles (expert_gate_up_grouped, expert_down_grouped:
// an expert's remainder of 1–32 pairs; its full 64-pair tiles and the dense multiply, matmul, take
// tile_multiply_64.wgsl: expert_tiles.wgsl). A workgroup of 16 × 8 threads owns a 32 × 128 block of
// outputs: 32 rows of `a` (pairs, f32 activations in `x`) against 128 rows of `b` (weight rows, packed in
// `w`). Per step of 16 inputs both tiles are staged in workgroup memory input-major, four rows to a vec4,
// so thread (tx, ty), which owns rows 4ty … 4ty+3 of `a` and rows 4tx … 4tx+3 and 64+4tx … 64+4tx+3 of
// `b`, reads three vec4s per input for its 32 multiply-adds. Every tile of 64 pairs instead (an expert's
// last one part filled) ran OLMoE's grouped multiplies 5% slower, Qwen's down projection 13% (H100,
// 2026-11-25), and 32-pair tiles of 8 × 8 per thread (64 threads) slower still.
// Staging (tile_staging.wgsl): thread li loads one row of `a` (row li / 4) and two rows of `b`. Its stores
// into the tiles hit 32 different banks: input c of row group g (rows 4g … 4g+3) sits in slot
// (g XOR 2·(c / 4)) % 8 of `a`'s tile, (g XOR 4·(c / 8)) % 32 of `b`'s. The `% 8` and `% 32` change no
// value; they are there, with the slots written out inline, because that is a form whose range Tint can
// bound, so that it leaves out the bounds clamp robustness puts on every tile index
// (tools/shader_clamps.mjs counts them: none on xTile/wTile now, five before). H200, prefill GPU time:
// OLMoE −4.5%, Qwen −2.5%, granite +7% (docs/performance.md).
// multiplyTiles (tile_staging.wgsl) runs the steps; the raw words are unpacked only when stored into the
// tile.
// The including shader declares what tile_staging.wgsl needs and `loadStep(k)`, which calls
// loadActivations for its `a` row and loadWeights for each of its two `b` rows at step k.

#include "tile_staging"

const A_ROWS: u32 = 32u;  // rows of `a` (pairs) per workgroup
alias ATile = array<vec4<f32>, 128>; // [input c][swizzled row group]: STEP × A_ROWS / 4 vec4s, 2 KB
/** acc[4j + i]: row 4ty + i of `a` against rows 64j + 4tx … +3 of `b`. */
alias Accumulators = array<vec4<f32>, 8>;

/** The `a` rows thread li stages: one (s = 0), at inputs 4·aChunk(li) … +3 of each step. */
const A_STAGED: u32 = 1u;
fn aStagedRow(li: u32, s: u32) -> u32 { return li / 4u; }

/** Per staged `a` row: its 4 inputs of the step. */
var<private> aStaged: array<vec4<f32>, A_STAGED>;

fn storeStaged(a: ptr<workgroup, ATile>, b: ptr<workgroup, BTile>, li: u32) {
  let ca = 4u * (li % 4u); // 4·aChunk(li), written out: Tint bounds an index only through inline arithmetic
  let row = aStagedRow(li, 0u);
  for (var e = 0u; e < 4u; e++) { (*a)[(ca + e) * 8u + ((row / 4u) ^ (2u * aChunk(li))) % 8u][row % 4u] = aStaged[0][e]; }
  let cb = 8u * (li % 2u); // 8·bChunk(li)
  for (var s = 0u; s < 2u; s++) {
    let row = bRow(li) + 64u * s;
    for (var e = 0u; e < 8u; e++) { (*b)[(cb + e) * 32u + ((row / 4u) ^ (4u * bChunk(li))) % 32u][row % 4u] = stagedWeight(s, e); }
  }
}

/** acc[4j + i] += Σ_c a[4ty + i, c] · b[64j + 4tx … +3, c] over the staged step. */
fn accumulateStep(acc: ptr<function, Accumulators>, a: ptr<workgroup, ATile>, b: ptr<workgroup, BTile>, local: vec3u) {
  for (var c = 0u; c < STEP; c++) {
    let av = (*a)[c * 8u + (local.y ^ (2u * (c / 4u))) % 8u];
    let b0 = (*b)[c * 32u + (local.x ^ (4u * (c / 8u))) % 32u];
    let b1 = (*b)[c * 32u + ((local.x + 16u) ^ (4u * (c / 8u))) % 32u];
    (*acc)[0] += av.x * b0;
    (*acc)[1] += av.y * b0;
    (*acc)[2] += av.z * b0;
    (*acc)[3] += av.w * b0;
    (*acc)[4] += av.x * b1;
    (*acc)[5] += av.y * b1;
    (*acc)[6] += av.z * b1;
    (*acc)[7] += av.w * b1;
  }
}

/**
 * Hands every accumulator to the including shader's storeAccumulator(v, row, col): row `row` of the tile's
 * `a` rows against its `b` rows col … col + 3 (as tile_multiply_64.wgsl's, with constant indices).
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
}
