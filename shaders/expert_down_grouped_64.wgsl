// Prefill down projection over tiles of 64 pairs (tile_multiply_64: 8 × 8 outputs per thread): the full
// part of each expert's pairs (expert_tiles.wgsl; the kernel: expert_down_grouped_main.wgsl).
#include "tile_multiply_64"
#include "expert_down_grouped_main"
