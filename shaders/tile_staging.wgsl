// Included by the tiled multiplies' two tilings (tile_multiply.wgsl: 32 × 128 outputs per workgroup, the
// grouped expert multiplies; tile_multiply_64.wgsl: 64 × 128, the dense one): loading a step of STEP inputs
// from global memory into registers, which both do alike with 128 threads. Thread li loads 4 consecutive
// inputs of its rows of `a` (inputs 4(li % 4) …) and 8 consecutive inputs of two rows of `b` (rows li / 2
// and 64 below it, inputs 8(li % 2) …): with VECTOR_LOADS one 16-byte load each (8 bf16/f16 words, or 4
// f32 in one load; measured 1.3–1.8× the speed of loading element by element on an H100), else element by
// element. A subgroup of 32 then reads whole 32-byte sectors. The raw words are unpacked only when the
// tiling stores them into its workgroup tile (stagedWeight). multiplyTiles, below, runs the steps for
// both: it loads the next step into registers before it multiplies the current tiles, so the loads'
// latency hides behind the arithmetic.
// The including shader declares `x: array<vec4<f32>>` (activations), `w: array<vec4<u32>>` (weights) and
// `weightIndex(row, input)` (the element of weight row `row`, input `input` in w); the tiling declares
// ATile, Accumulators, storeStaged (staged registers into the tiles) and accumulateStep (one step's
// multiply-adds).

const B_ROWS: u32 = 128u; // rows of `b` (weight rows, outputs) per workgroup
const STEP: u32 = 16u;    // inputs per staged tile

/**
 * Whether rows can be loaded 16 bytes at a time: the host sets it where K % 8 == 0, weight rows are
 * input-contiguous (not a transposed bank) and every buffer is a whole number of 16-byte words.
 */
override VECTOR_LOADS: bool = false;

alias BTile = array<vec4<f32>, 512>; // [input c][swizzled row group]: STEP × B_ROWS / 4 vec4s, 8 KB

/** The inputs thread li loads of an `a` row: 4·aChunk(li) … +3 of each step. */
fn aChunk(li: u32) -> u32 { return li % 4u; }
/** The `b` rows thread li stages: bRow(li) and bRow(li) + 64, at inputs 8·bChunk(li) … +7 of each step. */
fn bRow(li: u32) -> u32 { return li / 2u; }
fn bChunk(li: u32) -> u32 { return li % 2u; }

var<private> stagingThread: u32;           // li of this thread, for the loaders
/** Per `b` row: 8 packed halves in its first word, or 8 f32 bit patterns (bStaged[2s], bStaged[2s + 1]). */
var<private> bStaged: array<vec4<u32>, 4>;

/** Value e (0 … 7) of `b` row s as staged. */
fn stagedWeight(s: u32, e: u32) -> f32 {
  if (VECTOR_LOADS && WEIGHT_DTYPE != 0u) { return unpackPair(bStaged[2u * s][e / 2u])[e % 2u]; }
  return bitcast<f32>(bStaged[2u * s + e / 4u][e % 4u]);
}

/** Inputs k0 + 4·aChunk … +3 (step k0) of the activation row starting at element rowStart of x (zeros past K or if !valid). */
fn loadActivations(valid: bool, rowStart: u32, k0: u32, K: u32) -> vec4<f32> {
  var v = vec4<f32>(0.0);
  let k = k0 + 4u * aChunk(stagingThread);
  // branch-free (1–3% faster on an H100 than returning early): an invalid row or a chunk past K loads some
  // word (robustness keeps it in bounds) and drops it; loadWeights drops its side too, so a non-finite
  // word never meets a nonzero factor
  if (VECTOR_LOADS) { return select(vec4<f32>(0.0), x[(rowStart + k) / 4u], valid && k < K); }
  if (!valid || k >= K) { return v; }
  for (var e = 0u; e < 4u; e++) {
    let i = rowStart + k + e;
    if (k + e < K) { v[e] = x[i / 4u][i % 4u]; }
  }
  return v;
}

/** Inputs k0 + 8·bChunk … +7 (step k0) of weight row `row` into the staged values of `b` row s (zeros past K or if !valid). */
fn loadWeights(s: u32, valid: bool, row: u32, k0: u32, K: u32) {
  let k = k0 + 8u * bChunk(stagingThread);
  if (VECTOR_LOADS) {
    let ok = valid && k < K;
    let word = weightWord(weightIndex(row, k)) / 4u;
    bStaged[2u * s] = select(vec4<u32>(0u), w[word], ok);
    if (WEIGHT_DTYPE == 0u) { bStaged[2u * s + 1u] = select(vec4<u32>(0u), w[word + 1u], ok); }
    return;
  }
  bStaged[2u * s] = vec4<u32>(0u);
  bStaged[2u * s + 1u] = vec4<u32>(0u);
  if (!valid || k >= K) { return; }
  for (var e = 0u; e < 8u; e++) {
    if (k + e < K) {
      let i = weightIndex(row, k + e);
      let word = weightWord(i);
      bStaged[2u * s + e / 4u][e % 4u] = bitcast<u32>(weightValue(w[word / 4u][word % 4u], i));
    }
  }
}

/**
 * acc = Σ_k a[row, k] · b[col, k] over inputs kBegin … kEnd − 1 for the rows and columns the tiling gives
 * this thread, staged STEP at a time by loadStep (kBegin a multiple of STEP; kEnd K or a multiple of STEP:
 * loadStep bounds loads by K). Rows of `a` from `rows` on are empty (an expert's last, part-filled tile
 * of pairs): a thread whose rows all are (its first row, 4ty, is past them) stages its share but does no
 * multiply-adds, which leaves the SM's FMA units to the workgroups beside it (its accumulators stay zero).
 */
fn multiplyTiles(acc: ptr<function, Accumulators>, a: ptr<workgroup, ATile>, b: ptr<workgroup, BTile>, kBegin: u32, kEnd: u32, rows: u32, li: u32, local: vec3u) {
  stagingThread = li;
  let multiplies = 4u * local.y < rows;
  loadStep(kBegin);
  for (var k0 = kBegin; k0 < kEnd; k0 += STEP) {
    storeStaged(a, b, li);
    workgroupBarrier();
    if (k0 + STEP < kEnd) { loadStep(k0 + STEP); }
    if (multiplies) { accumulateStep(acc, a, b, local); }
    workgroupBarrier();
  }
}
