// Group the (token, slot) pairs of a prefill by expert, on the GPU, in three stages (STAGE override):
//   0 count:   counts[e] = pairs routed to e                         (one thread per pair, atomics)
//   1 scan:    offsets[e] = Σ_{e' < e} counts[e'], offsets[E] = P; cursors reset   (one workgroup);
//              and the tiles of 64 and 32 pairs that the grouped multiplies take (expert_tiles.wgsl)
//   2 scatter: sorted[offsets[e] + n] = p, the pairs of each expert together          (one thread per pair)
// The order of pairs inside one expert's group is not fixed; every later step is per pair, so results
// do not depend on it.

struct Params {
  numPairs: u32,    // P = T · k
  numExperts: u32,  // E
  bigTiles: u32,    // room for 64-pair tiles (expert_tiles.wgsl)
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> expertIds: array<u32>;            // [P]
@group(0) @binding(2) var<storage, read_write> counts: array<atomic<u32>>; // [E] (zeroed before stage 0)
@group(0) @binding(3) var<storage, read_write> offsets: array<u32>;        // [E + 1 | E + 1 | E + 1 | tiles] (expert_tiles.wgsl)
@group(0) @binding(4) var<storage, read_write> sorted: array<u32>;         // [P] pair indices

override STAGE: u32 = 0;
override WORKGROUP_SIZE: u32 = 64;
const BIG_TILE_PAIRS: u32 = 64u; // tile_multiply_64's A_ROWS
const TILE_PAIRS: u32 = 32u;     // tile_multiply's A_ROWS

var<workgroup> partial: array<vec3<u32>, WORKGROUP_SIZE>; // pairs, 64-pair tiles, 32-pair tiles

/**
 * Stage 1, one workgroup: thread l sums the pair and tile counts of experts l·per … (l + 1)·per − 1, a
 * scan over the threads gives each its first offsets, then it writes its experts' offsets, first tiles
 * of each size and the expert of each of their tiles. One thread walking all E counts took a global round trip per
 * expert (OLMoE, the three stages of a layer on an H200: 41 µs then, 29 now).
 */
fn scan(l: u32) {
  let E = params.numExperts;
  let per = (E + WORKGROUP_SIZE - 1u) / WORKGROUP_SIZE;
  var mine = vec3<u32>(0u);
  for (var i = 0u; i < per; i++) {
    let e = l * per + i;
    if (e < E) { mine += pairsAndTiles(atomicLoad(&counts[e])); }
  }
  partial[l] = mine;
  workgroupBarrier();
  for (var step = 1u; step < WORKGROUP_SIZE; step *= 2u) {   // inclusive scan of partial (Hillis–Steele)
    let before = select(vec3<u32>(0u), partial[l - step], l >= step);
    workgroupBarrier();
    partial[l] += before;
    workgroupBarrier();
  }
  var running = partial[l] - mine;
  for (var i = 0u; i < per; i++) {
    let e = l * per + i;
    if (e < E) {
      let n = pairsAndTiles(atomicLoad(&counts[e]));
      offsets[e] = running.x;
      offsets[E + 1u + e] = running.y;
      offsets[2u * E + 2u + e] = running.z;
      for (var j = 0u; j < n.y; j++) { offsets[3u * E + 3u + running.y + j] = e; }
      for (var j = 0u; j < n.z; j++) { offsets[3u * E + 3u + params.bigTiles + running.z + j] = e; }
      running += n;
      atomicStore(&counts[e], 0u);   // reused as each expert's cursor by the scatter
    }
  }
  if (l == WORKGROUP_SIZE - 1u) {
    offsets[E] = partial[l].x;
    offsets[2u * E + 1u] = partial[l].y;
    offsets[3u * E + 2u] = partial[l].z;
  }
}

/**
 * An expert's pair count, its 64-pair tiles (one per 64 pairs, and one for a remainder of 33–63) and its
 * 32-pair tiles (one for a remainder of 1–32).
 */
fn pairsAndTiles(count: u32) -> vec3<u32> {
  let big = (count + BIG_TILE_PAIRS - TILE_PAIRS - 1u) / BIG_TILE_PAIRS;
  let rest = count - min(count, big * BIG_TILE_PAIRS);
  return vec3<u32>(count, big, (rest + TILE_PAIRS - 1u) / TILE_PAIRS);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u,
        @builtin(local_invocation_index) l: u32) {
  if (STAGE == 1u) {
    scan(l);
    return;
  }
  let p = gid.x + gid.y * groups.x * WORKGROUP_SIZE;
  if (p >= params.numPairs) { return; }
  let e = expertIds[p];
  if (STAGE == 0u) {
    atomicAdd(&counts[e], 1u);
  } else {
    sorted[offsets[e] + atomicAdd(&counts[e], 1u)] = p;
  }
}
