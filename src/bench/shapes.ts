// Benchmark shapes: configs at the exact dimensions of public MoE checkpoints (from their config.json
// files), with the tensor names their architectures use. Weights are synthetic.

export interface BenchShape {
  name: string;
  description: string;
  config: Record<string, unknown>;
  tensors: [name: string, shape: number[]][];
}

/** Norms and q/k/v/o of one layer (biases on q, k, v when `qkvBias`). */
function attentionTensors(p: string, H: number, heads: number, kv: number, qkvBias = false): [string, number[]][] {
  const d = H / heads;
  const t: [string, number[]][] = [
    [`${p}.input_layernorm.weight`, [H]],
    [`${p}.self_attn.q_proj.weight`, [heads * d, H]],
    [`${p}.self_attn.k_proj.weight`, [kv * d, H]],
    [`${p}.self_attn.v_proj.weight`, [kv * d, H]],
    [`${p}.self_attn.o_proj.weight`, [H, heads * d]],
    [`${p}.post_attention_layernorm.weight`, [H]],
  ];
  if (qkvBias) t.push([`${p}.self_attn.q_proj.bias`, [heads * d]], [`${p}.self_attn.k_proj.bias`, [kv * d]], [`${p}.self_attn.v_proj.bias`, [kv * d]]);
  return t;
}

function olmoeStyle(c: { H: number; L: number; heads: number; kv: number; E: number; k: number; I: number; V: number }): [string, number[]][] {
  const d = c.H / c.heads;
  const t: [string, number[]][] = [['model.embed_tokens.weight', [c.V, c.H]]];
  for (let l = 0; l < c.L; l++) {
    const p = `model.layers.${l}`;
    t.push(
      ...attentionTensors(p, c.H, c.heads, c.kv),
      [`${p}.self_attn.q_norm.weight`, [c.heads * d]],
      [`${p}.self_attn.k_norm.weight`, [c.kv * d]],
      [`${p}.mlp.gate.weight`, [c.E, c.H]],
    );
    for (let e = 0; e < c.E; e++) {
      t.push([`${p}.mlp.experts.${e}.gate_proj.weight`, [c.I, c.H]], [`${p}.mlp.experts.${e}.up_proj.weight`, [c.I, c.H]], [`${p}.mlp.experts.${e}.down_proj.weight`, [c.H, c.I]]);
    }
  }
  t.push(['model.norm.weight', [c.H]], ['lm_head.weight', [c.V, c.H]]);
  return t;
}

function olmoe(name: string, description: string, c: Parameters<typeof olmoeStyle>[0]): BenchShape {
  return {
    name,
    description,
    config: {
      architectures: ['OlmoeForCausalLM'], model_type: 'olmoe', hidden_size: c.H, num_hidden_layers: c.L, num_attention_heads: c.heads,
      num_key_value_heads: c.kv, intermediate_size: c.I, num_experts: c.E, num_experts_per_tok: c.k, vocab_size: c.V,
      max_position_embeddings: 4096, rms_norm_eps: 1e-5, rope_theta: 10000, norm_topk_prob: false, tie_word_embeddings: false, dtype: 'bfloat16',
    },
    tensors: olmoeStyle(c),
  };
}

function granite(): BenchShape {
  const [H, L, heads, kv, E, k, I, V] = [1024, 24, 16, 8, 32, 8, 512, 49155];
  const t: [string, number[]][] = [['model.embed_tokens.weight', [V, H]]];
  for (let l = 0; l < L; l++) {
    const p = `model.layers.${l}`;
    t.push(
      ...attentionTensors(p, H, heads, kv),
      [`${p}.block_sparse_moe.router.layer.weight`, [E, H]],
      [`${p}.block_sparse_moe.input_linear.weight`, [E, 2 * I, H]],
      [`${p}.block_sparse_moe.output_linear.weight`, [E, H, I]],
    );
  }
  t.push(['model.norm.weight', [H]]);
  return {
    name: 'granite-3.0-1b-a400m',
    description: 'GraniteMoE, 24 layers, H 1024, 32 experts top-8, I 512, tied embeddings',
    config: {
      architectures: ['GraniteMoeForCausalLM'], model_type: 'granitemoe', hidden_size: H, num_hidden_layers: L, num_attention_heads: heads,
      num_key_value_heads: kv, intermediate_size: I, num_local_experts: E, num_experts_per_tok: k, vocab_size: V, max_position_embeddings: 4096,
      rms_norm_eps: 1e-6, rope_theta: 10000, embedding_multiplier: 12, attention_multiplier: 0.015625, residual_multiplier: 0.22, logits_scaling: 6,
      tie_word_embeddings: true, dtype: 'bfloat16',
    },
    tensors: t,
  };
}

function qwen15(): BenchShape {
  const [H, L, heads, E, k, I, shared, V] = [2048, 24, 16, 60, 4, 1408, 5632, 151936];
  const t: [string, number[]][] = [['model.embed_tokens.weight', [V, H]]];
  for (let l = 0; l < L; l++) {
    const p = `model.layers.${l}`;
    t.push(
      ...attentionTensors(p, H, heads, heads, true),
      [`${p}.mlp.gate.weight`, [E, H]],
      [`${p}.mlp.shared_expert.gate_proj.weight`, [shared, H]], [`${p}.mlp.shared_expert.up_proj.weight`, [shared, H]], [`${p}.mlp.shared_expert.down_proj.weight`, [H, shared]],
      [`${p}.mlp.shared_expert_gate.weight`, [1, H]],
    );
    for (let e = 0; e < E; e++) {
      t.push([`${p}.mlp.experts.${e}.gate_proj.weight`, [I, H]], [`${p}.mlp.experts.${e}.up_proj.weight`, [I, H]], [`${p}.mlp.experts.${e}.down_proj.weight`, [H, I]]);
    }
  }
  t.push(['model.norm.weight', [H]], ['lm_head.weight', [V, H]]);
  return {
    name: 'qwen1.5-moe-a2.7b',
    description: 'Qwen2-MoE, 24 layers, H 2048, 60 experts top-4, I 1408, shared expert 5632',
    config: {
      architectures: ['Qwen2MoeForCausalLM'], model_type: 'qwen2_moe', hidden_size: H, num_hidden_layers: L, num_attention_heads: heads,
      num_key_value_heads: heads, intermediate_size: 5632, moe_intermediate_size: I, shared_expert_intermediate_size: shared, num_experts: E,
      num_experts_per_tok: k, vocab_size: V, max_position_embeddings: 8192, rms_norm_eps: 1e-6, rope_theta: 1e6, norm_topk_prob: false,
      decoder_sparse_step: 1, mlp_only_layers: [], tie_word_embeddings: false, dtype: 'bfloat16',
    },
    tensors: t,
  };
}

export const BENCH_SHAPES: Record<string, () => BenchShape> = {
  tiny: () => olmoe('tiny', 'OLMoE layout, 2 layers, H 64, 8 experts top-2 (CI smoke)', { H: 64, L: 2, heads: 4, kv: 4, E: 8, k: 2, I: 32, V: 256 }),
  'olmoe-dispatches': () => olmoe('olmoe-dispatches', 'OLMoE-1B-7B\'s layers, experts and top-k at tiny widths (H 64): the host\'s cost per step on any adapter', { H: 64, L: 16, heads: 4, kv: 4, E: 64, k: 8, I: 32, V: 256 }),
  'olmoe-layer': () => olmoe('olmoe-layer', 'one OLMoE-1B-7B-sized layer (64 experts × 2048 × 1024), vocabulary 1,024: for analysis timings', { H: 2048, L: 1, heads: 16, kv: 16, E: 64, k: 8, I: 1024, V: 1024 }),
  'olmoe-1b-7b': () => olmoe('olmoe-1b-7b', 'OLMoE, 16 layers, H 2048, 64 experts top-8, I 1024', { H: 2048, L: 16, heads: 16, kv: 16, E: 64, k: 8, I: 1024, V: 50304 }),
  'granite-3.0-1b-a400m': granite,
  'qwen1.5-moe-a2.7b': qwen15,
};
