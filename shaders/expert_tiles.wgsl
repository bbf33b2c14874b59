// Included by the grouped expert multiplies (expert_gate_up_grouped_main, expert_down_grouped_main), after
// their tiling: which tile of which expert's pairs workgroup row y takes. Pairs come in tiles of two sizes,
// each multiplied by its own dispatch: 64-pair tiles (tile_multiply_64, 8 × 8 outputs per thread, 23%
// faster per multiply-add on dense problems) for the full part of each expert's pairs, then one 32-pair
// tile (tile_multiply, 4 × 8) for a remainder of 32 or fewer; a remainder of 33–63 takes a part-filled
// 64-pair tile. H100, 512-token prefills, against 32-pair tiles only (one lease): granite's grouped
// multiplies 15.5 → 13.3 ms; OLMoE's 33.4 and Qwen's 67.9 unchanged, their 64-pair tiles faster per pair
// but the remainders' dispatch, a short wave even split over its inputs (expert_split.wgsl), costing
// what that saves. expert_group.wgsl's scan lays out `offsets` as
//   [0, E]                      the first pair of each expert in `sorted` (the last entry: P)
//   [E + 1, 2E + 1]             the first 64-pair tile of each expert (the last entry: all 64-pair tiles)
//   [2E + 2, 3E + 2]            the first 32-pair tile of each expert (the last entry: all 32-pair tiles)
//   [3E + 3, + bigTiles)        the expert of each 64-pair tile (bigTiles: room for them, from the host)
//   [3E + 3 + bigTiles, …)      the expert of each 32-pair tile
// so that the grid's rows are the tiles that exist (at most P / A_ROWS + E), not E · T / A_ROWS rows most
// of which are empty (OLMoE, 512 tokens, one size of tile: 192 rows, not 1,024; the empty workgroups cost
// an H200 ~0.1 ms per projection of a prefill). The including shader declares `offsets: array<u32>`,
// `sorted: array<u32>`, Params.numExperts and Params.bigTiles.

struct ExpertTile {
  expert: u32,
  begin: u32, // its first pair in `sorted`
  count: u32, // pairs in the tile; 0: row y is past the last tile
}

fn expertTile(y: u32) -> ExpertTile {
  let E = params.numExperts;
  let big = A_ROWS == 64u;
  let firstTiles = select(2u * E + 2u, E + 1u, big);
  if (y >= offsets[firstTiles + E]) { return ExpertTile(0u, 0u, 0u); }
  let e = offsets[select(3u * E + 3u + params.bigTiles, 3u * E + 3u, big) + y];
  // a 32-pair tile's expert's pairs start after its 64-pair tiles
  let pairsInBig = select(64u * (offsets[E + 2u + e] - offsets[E + 1u + e]), 0u, big);
  let begin = offsets[e] + pairsInBig + (y - offsets[firstTiles + e]) * A_ROWS;
  return ExpertTile(e, begin, min(offsets[e + 1u], begin + A_ROWS) - min(offsets[e + 1u], begin));
}

var<private> tile: ExpertTile;
var<private> tileRow: u32;  // the tile's first row of partial sums (expert_split.wgsl's phase 1)
var<private> chunk: u32;    // its chunk of the inputs (phase 1)
var<private> expert: u32;
var<private> pairOk: array<bool, A_STAGED>;    // the pairs thread li stages (rows aStagedRow of the tile)
var<private> stagedPairs: array<u32, A_STAGED>;

/** Workgroup wid's tile, its chunk and the pairs thread li stages, into the privates above; returns the tile's pair count. */
fn takeTile(wid: vec3u, li: u32) -> u32 {
  let here = expertTile(wid.y); // a local, not the private `tile`, so that the count returned stays uniform
  tile = here;
  tileRow = wid.y * A_ROWS;
  chunk = wid.z;
  expert = here.expert;
  for (var s = 0u; s < A_STAGED; s++) {
    let r = aStagedRow(li, s);
    pairOk[s] = r < here.count;
    stagedPairs[s] = 0u;
    if (pairOk[s]) { stagedPairs[s] = sorted[here.begin + r]; }
  }
  return here.count;
}
