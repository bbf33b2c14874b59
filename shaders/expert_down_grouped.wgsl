// Prefill down projection over tiles of 32 pairs (tile_multiply: 4 × 8 outputs per thread): an expert's
// last tile when its remainder is 32 pairs or fewer, or every tile where 64-pair tiles would leave the GPU
// too few workgroups (expert_tiles.wgsl; the kernel: expert_down_grouped_main.wgsl).
#include "tile_multiply"
#include "expert_down_grouped_main"
