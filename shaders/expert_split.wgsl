// Included by the grouped expert multiplies (expert_gate_up_grouped_main, expert_down_grouped_main): their
// 32-pair tiles split over the inputs. Those tiles are few (an expert's remainder of 1–32 pairs after its
// 64-pair tiles: OLMoE at 512 tokens has ~32 per layer), so their dispatch holds one short wave of
// workgroups that each walk all K inputs. Split into S chunks (SPLIT_PHASE 1: workgroup z multiplies
// inputs z · kChunk … into partials[z]), then summed per output (SPLIT_PHASE 2: workgroup (x, y) adds up
// 128 outputs of every pair of tile y) by the including shader's finish. H100, OLMoE's 512-token
// prefill: the remainders' gate/up 6.34 → 5.87 ms and down 3.39 → 3.61 with phase 2 (without it, as a
// timing test: 4.89 and 2.71, so the partial sums' stores and phase 2 cost ~1.9 ms).
// The including shader's Params has kChunk, splits (S) and partialRows (rows of partials per chunk: the
// grid's tile rows × A_ROWS).

@group(0) @binding(6) var<storage, read_write> partials: array<f32>; // [S, partialRows, N] f32 (SPLIT_PHASE 1 and 2; else a placeholder)

override SPLIT_PHASE: u32 = 0u; // 0: all inputs, into the output; 1: inputs of chunk z, into partials[z]; 2: Σ_z partials[z], into the output

const MAX_SPLITS: u32 = 8u; // experts.ts GROUPED_SPLIT_MAX

/** Σ_z partials[z · stride + i] over the S chunks: the loop counts to a constant so that all S loads are in flight before the first add. */
fn partialSum(i: u32, stride: u32) -> f32 {
  var sum = 0.0;
  for (var z = 0u; z < MAX_SPLITS; z++) {
    if (z < params.splits) { sum += partials[z * stride + i]; }
  }
  return sum;
}
