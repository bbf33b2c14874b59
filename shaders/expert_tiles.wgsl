// Included by the grouped expert multiplies (expert_gate_up_grouped, expert_down_grouped), after
// tile_multiply: which tile of which expert's pairs workgroup row y takes. expert_group.wgsl's scan lays
// out `offsets` as
//   [0, E]            the first pair of each expert in `sorted` (the last entry: P)
//   [E + 1, 2E + 1]   the first tile of each expert, A_ROWS pairs to a tile (the last entry: all tiles)
//   [2E + 2, …)       the expert of each tile
// so that the grid's rows are the tiles that exist (at most P / A_ROWS + E), not E · T / A_ROWS rows most
// of which are empty (OLMoE, 512 tokens: 192 rows, not 1,024; the empty workgroups cost an H200 ~0.1 ms
// per projection of a prefill, 0.2 ms of OLMoE's 47). The including shader declares
// `offsets: array<u32>` and Params.numExperts.

struct ExpertTile {
  expert: u32,
  begin: u32, // its first pair in `sorted`
  count: u32, // pairs in the tile; 0: row y is past the last tile
}

fn expertTile(y: u32) -> ExpertTile {
  let E = params.numExperts;
  if (y >= offsets[2u * E + 1u]) { return ExpertTile(0u, 0u, 0u); }
  let e = offsets[2u * E + 2u + y];
  let begin = offsets[e] + (y - offsets[E + 1u + e]) * A_ROWS;
  return ExpertTile(e, begin, min(offsets[e + 1u], begin + A_ROWS) - begin);
}
