// Included by the tiled multiplies (matmul, expert_gate_up_grouped, expert_down_grouped): a workgroup of
// 16 × 16 threads owns a 64 × 64 block of outputs; per step the including shader stages 16 inputs of 64
// rows of each operand in workgroup memory (rows padded to 17 so neighbouring threads hit different banks),
// then every thread adds its 4 × 4 outputs: rows ty + 16a of `a` against rows tx + 16b of `b`.

const TILE: u32 = 64u;   // rows of each operand, and of the output block, per workgroup
const STEP: u32 = 16u;   // inputs per staged tile

alias Tile = array<array<f32, 17>, 64>;

fn accumulateTile(acc: ptr<function, array<f32, 16>>, a: ptr<workgroup, Tile>, b: ptr<workgroup, Tile>, local: vec3u) {
  for (var c = 0u; c < STEP; c++) {
    var av: array<f32, 4>;
    var bv: array<f32, 4>;
    for (var i = 0u; i < 4u; i++) {
      av[i] = (*a)[local.y + 16u * i][c];
      bv[i] = (*b)[local.x + 16u * i][c];
    }
    for (var i = 0u; i < 4u; i++) {
      for (var j = 0u; j < 4u; j++) { (*acc)[i * 4u + j] += av[i] * bv[j]; }
    }
  }
}
