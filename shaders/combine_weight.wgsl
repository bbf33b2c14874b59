// Included by the combine kernels (expert_combine, expert_down_combine, expert_down_combine_rows): the
// weight of pair p, or its sigmoid when params.sigmoidWeights = 1 (Qwen2-MoE's shared expert:
// sigmoid(shared_expert_gate(x)) · shared_expert(x), the gate's sigmoid taken here instead of in a
// dispatch of its own).
fn combineWeight(p: u32) -> f32 {
  let w = weights[p];
  return select(w, 1.0 / (1.0 + exp(-w)), params.sigmoidWeights == 1u);
}
