// Included by the tiled multiplies (matmul, expert_gate_up_grouped, expert_down_grouped). A workgroup of
// 16 × 16 threads owns a 64 × 64 block of outputs: 64 rows of `a` (tokens or pairs, f32 activations in `x`)
// against 64 rows of `b` (weight rows, packed in `w`). Per step of 32 inputs both 64 × 32 tiles are staged
// in workgroup memory input-major, four rows to a vec4, so thread (tx, ty), which owns rows 4ty … 4ty+3 of
// `a` and 4tx … 4tx+3 of `b`, reads two vec4s per input for its 16 multiply-adds.
// Staging: thread li loads 4 consecutive inputs of two rows of `a` (row li / 8 and 32 below it, inputs
// 4(li % 8) …) and 8 consecutive inputs of one row of `b` (row li / 4, inputs 8(li % 4) …): with
// VECTOR_LOADS, one 16-byte load each (8 bf16/f16 words or 4 f32 in one load; measured 1.3–1.8× the
// speed of loading element by element on an H100), else element by element. A subgroup of 32 then
// reads whole 32-byte sectors, and its stores into the tiles hit 32 different banks: input c of row group
// g (rows 4g … 4g+3) sits in slot g XOR swizzleA(c) of `a`'s tile, g XOR swizzleB(c) of `b`'s.
// multiplyTiles loads the next step into registers before it multiplies the current tiles, so the loads'
// latency hides behind the arithmetic; the raw words are unpacked only when stored into the tile.
// The including shader declares `x: array<vec4<f32>>` (activations), `w: array<vec4<u32>>` (weights),
// `weightIndex(row, input)` (the element of weight row `row`, input `input` in w) and `loadStep(k)`,
// which calls loadActivations for both of its `a` rows and loadWeights for its `b` row at step k.

const TILE: u32 = 64u;   // rows of each operand, and of the output block, per workgroup
const STEP: u32 = 32u;   // inputs per staged tile

/**
 * Whether rows can be loaded 16 bytes at a time: the host sets it where K % 8 == 0, weight rows are
 * input-contiguous (not a transposed bank) and every buffer is a whole number of 16-byte words.
 */
override VECTOR_LOADS: bool = false;

alias Tile = array<vec4<f32>, 512>; // [input c][row group ^ swizzle(c)]: STEP × TILE / 4 vec4s, 8 KB

/** The `a` rows thread li stages: aRow(li) and aRow(li) + 32, at inputs 4·aChunk(li) … +3 of each step. */
fn aRow(li: u32) -> u32 { return li / 8u; }
fn aChunk(li: u32) -> u32 { return li % 8u; }
/** The `b` row thread li stages, at inputs 8·bChunk(li) … +7 of each step. */
fn bRow(li: u32) -> u32 { return li / 4u; }
fn bChunk(li: u32) -> u32 { return li % 4u; }
fn swizzleA(c: u32) -> u32 { return c / 4u; }
fn swizzleB(c: u32) -> u32 { return 2u * (c / 8u); }

var<private> stagingThread: u32;           // li of this thread, for the loaders
var<private> aStaged: array<vec4<f32>, 2>; // rows aRow, aRow + 32
var<private> bStaged: array<vec4<u32>, 2>; // 8 values: 8 packed halves in bStaged[0], or 8 f32 bit patterns

/** Value e (0 … 7) of bStaged. */
fn stagedWeight(e: u32) -> f32 {
  if (VECTOR_LOADS && WEIGHT_DTYPE != 0u) { return unpackPair(bStaged[0][e / 2u])[e % 2u]; }
  return bitcast<f32>(bStaged[e / 4u][e % 4u]);
}

fn storeStaged(a: ptr<workgroup, Tile>, b: ptr<workgroup, Tile>, li: u32) {
  let ca = 4u * aChunk(li);
  for (var s = 0u; s < 2u; s++) {
    let row = aRow(li) + 32u * s;
    for (var e = 0u; e < 4u; e++) { (*a)[(ca + e) * 16u + ((row / 4u) ^ swizzleA(ca))][row % 4u] = aStaged[s][e]; }
  }
  let cb = 8u * bChunk(li);
  let row = bRow(li);
  for (var e = 0u; e < 8u; e++) { (*b)[(cb + e) * 16u + ((row / 4u) ^ swizzleB(cb))][row % 4u] = stagedWeight(e); }
}

/** acc[i][j] += Σ_c a[4ty + i, c] · b[4tx + j, c] over the staged step. */
fn accumulateTile(acc: ptr<function, array<vec4<f32>, 4>>, a: ptr<workgroup, Tile>, b: ptr<workgroup, Tile>, local: vec3u) {
  for (var c = 0u; c < STEP; c++) {
    let av = (*a)[c * 16u + (local.y ^ swizzleA(c))];
    let bv = (*b)[c * 16u + (local.x ^ swizzleB(c))];
    (*acc)[0] += av.x * bv;
    (*acc)[1] += av.y * bv;
    (*acc)[2] += av.z * bv;
    (*acc)[3] += av.w * bv;
  }
}

/** acc[i][j] = Σ_k a[4ty + i, k] · b[4tx + j, k] over all K inputs, staged STEP at a time by loadStep. */
fn multiplyTiles(acc: ptr<function, array<vec4<f32>, 4>>, a: ptr<workgroup, Tile>, b: ptr<workgroup, Tile>, K: u32, li: u32, local: vec3u) {
  stagingThread = li;
  loadStep(0u);
  for (var k0 = 0u; k0 < K; k0 += STEP) {
    storeStaged(a, b, li);
    workgroupBarrier();
    if (k0 + STEP < K) { loadStep(k0 + STEP); }
    accumulateTile(acc, a, b, local);
    workgroupBarrier();
  }
}

/** Inputs k0 + 4·aChunk … +3 (step k0) of the activation row starting at element rowStart of x (zeros past K or if !valid). */
fn loadActivations(valid: bool, rowStart: u32, k0: u32, K: u32) -> vec4<f32> {
  var v = vec4<f32>(0.0);
  let k = k0 + 4u * aChunk(stagingThread);
  if (!valid || k >= K) { return v; }
  if (VECTOR_LOADS) { return x[(rowStart + k) / 4u]; }
  for (var e = 0u; e < 4u; e++) {
    let i = rowStart + k + e;
    if (k + e < K) { v[e] = x[i / 4u][i % 4u]; }
  }
  return v;
}

/** Inputs k0 + 8·bChunk … +7 (step k0) of weight row `row` into bStaged (zeros past K or if !valid). */
fn loadWeights(valid: bool, row: u32, k0: u32, K: u32) {
  bStaged[0] = vec4<u32>(0u);
  bStaged[1] = vec4<u32>(0u);
  let k = k0 + 8u * bChunk(stagingThread);
  if (!valid || k >= K) { return; }
  if (VECTOR_LOADS) {
    let word = weightWord(weightIndex(row, k)) / 4u;
    bStaged[0] = w[word];
    if (WEIGHT_DTYPE == 0u) { bStaged[1] = w[word + 1u]; }
    return;
  }
  for (var e = 0u; e < 8u; e++) {
    if (k + e < K) {
      let i = weightIndex(row, k + e);
      let word = weightWord(i);
      bStaged[e / 4u][e % 4u] = bitcast<u32>(weightValue(w[word / 4u][word % 4u], i));
    }
  }
}
