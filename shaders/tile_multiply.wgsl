// Included by the tiled multiplies (matmul, expert_gate_up_grouped, expert_down_grouped). A workgroup of
// 16 × 16 threads owns a 64 × 64 block of outputs: 64 rows of `a` (tokens or pairs, f32 activations in `x`)
// against 64 rows of `b` (weight rows, packed in `w`). Per step of 32 inputs both 64 × 32 tiles are staged
// in workgroup memory input-major, four rows to a vec4, so thread (tx, ty), which owns rows 4ty … 4ty+3 of
// `a` and 4tx … 4tx+3 of `b`, reads two vec4s per input for its 16 multiply-adds.
// Staging: thread li stages 4 inputs (8 apart) of 2 rows (32 apart) of each operand, chosen so that a
// subgroup of 32 reads 8 consecutive inputs of 4 rows per load (whole 32-byte sectors) and writes 32
// different banks: tile slot (c, row) holds row group (row / 4) XOR (c % 8) of input c. multiplyTiles
// loads the next step into registers before it multiplies the current tiles, so the loads' latency hides
// behind the arithmetic.
// The including shader declares `x: array<f32>` (activations), `w: array<u32>` (weights),
// `weightIndex(row, input)` (the element of weight row `row`, input `input` in w) and `loadStep(k)`, which
// fills aStaged and bStaged with its thread's two rows of each operand at inputs k, k+8, k+16, k+24
// (loadActivations, loadWeights).

const TILE: u32 = 64u;   // rows of each operand, and of the output block, per workgroup
const STEP: u32 = 32u;   // inputs per staged tile

alias Tile = array<vec4<f32>, 512>; // [input c][row group (row / 4) ^ (c % 8)]: STEP × TILE / 4 vec4s, 8 KB
/** What one thread stages of one operand: inputs stageInput + 8j (j = 0 … 3) of rows stageRow and +32. */
alias Staged = array<vec4<f32>, 2>;

/** The first of the two rows (of TILE) that thread li stages. */
fn stageRow(li: u32) -> u32 { return li % 4u + 4u * (li / 32u); }
/** The first of the four inputs (of STEP) that thread li stages. */
fn stageInput(li: u32) -> u32 { return (li / 4u) % 8u; }

fn storeStaged(tile: ptr<workgroup, Tile>, li: u32, v: Staged) {
  let c0 = stageInput(li);
  for (var half = 0u; half < 2u; half++) {
    let row = stageRow(li) + 32u * half;
    let slot = ((row / 4u) ^ c0) % 16u;
    for (var j = 0u; j < 4u; j++) { (*tile)[(c0 + 8u * j) * 16u + slot][row % 4u] = v[half][j]; }
  }
}

/** acc[i][j] += Σ_c a[4ty + i, c] · b[4tx + j, c] over the staged step. */
fn accumulateTile(acc: ptr<function, array<vec4<f32>, 4>>, a: ptr<workgroup, Tile>, b: ptr<workgroup, Tile>, local: vec3u) {
  for (var c = 0u; c < STEP; c++) {
    let av = (*a)[c * 16u + (local.y ^ (c % 8u))];
    let bv = (*b)[c * 16u + (local.x ^ (c % 8u))];
    (*acc)[0] += av.x * bv;
    (*acc)[1] += av.y * bv;
    (*acc)[2] += av.z * bv;
    (*acc)[3] += av.w * bv;
  }
}

var<private> aStaged: Staged;
var<private> bStaged: Staged;

/** acc[i][j] = Σ_k a[4ty + i, k] · b[4tx + j, k] over all K inputs, staged STEP at a time by loadStep. */
fn multiplyTiles(acc: ptr<function, array<vec4<f32>, 4>>, a: ptr<workgroup, Tile>, b: ptr<workgroup, Tile>, K: u32, li: u32, local: vec3u) {
  loadStep(stageInput(li));
  for (var k0 = 0u; k0 < K; k0 += STEP) {
    storeStaged(a, li, aStaged);
    storeStaged(b, li, bStaged);
    workgroupBarrier();
    if (k0 + STEP < K) { loadStep(k0 + STEP + stageInput(li)); }
    accumulateTile(acc, a, b, local);
    workgroupBarrier();
  }
}

/** Inputs k, k+8, k+16, k+24 of the activation row starting at element rowStart of x (zeros past K or if !valid). */
fn loadActivations(valid: bool, rowStart: u32, k: u32, K: u32) -> vec4<f32> {
  var v = vec4<f32>(0.0);
  if (!valid) { return v; }
  for (var j = 0u; j < 4u; j++) {
    if (k + 8u * j < K) { v[j] = x[rowStart + k + 8u * j]; }
  }
  return v;
}

/** Inputs k, k+8, k+16, k+24 of weight row `row`, unpacked to f32 (zeros past K or if !valid). */
fn loadWeights(valid: bool, row: u32, k: u32, K: u32) -> vec4<f32> {
  var v = vec4<f32>(0.0);
  if (!valid) { return v; }
  for (var j = 0u; j < 4u; j++) {
    if (k + 8u * j < K) {
      let i = weightIndex(row, k + 8u * j);
      v[j] = weightValue(w[weightWord(i)], i);
    }
  }
  return v;
}
