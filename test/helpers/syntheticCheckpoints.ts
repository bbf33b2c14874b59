// Tiny checkpoints in the layouts Hugging Face writes, one per architecture, built in memory. Tensor names
// and shapes are listed here by hand from the transformers modeling files (independently of the loader's
// lookup code), with zero data: these exercise the loader, not the math.

import { memorySource, type ByteSource } from '../../src/checkpoint/byteSource.ts';
import { isComputeDtype, type ComputeDtype, type SafetensorsDtype } from '../../src/checkpoint/dtypes.ts';
import { encodeWeights } from '../../src/checkpoint/dtypeCodec.ts';
import { seededRandom } from './random.ts';
import { encodeSafetensors, tensorByteLength } from '../../src/checkpoint/safetensorsWriter.ts';

export type TensorList = [name: string, shape: number[]][];

/** A synthetic model's sizes: hidden, vocab, layers, experts, expert width, heads, kv heads, head dim. */
export interface SyntheticDims { H: number; V: number; L: number; E: number; I: number; NH: number; KV: number; D: number }
/** Every architecture's sizes here. */
export const TINY: SyntheticDims = { H: 16, V: 32, L: 2, E: 4, I: 8, NH: 4, KV: 2, D: 4 };
const { H, V, L, E, I, NH } = TINY;

function attention(p: string, opts: { qkvBias?: boolean; oBias?: boolean; qk?: 'head' | 'full' } = {}, { H, NH, KV, D } = TINY): TensorList {
  const t: TensorList = [
    [`${p}.self_attn.q_proj.weight`, [NH * D, H]],
    [`${p}.self_attn.k_proj.weight`, [KV * D, H]],
    [`${p}.self_attn.v_proj.weight`, [KV * D, H]],
    [`${p}.self_attn.o_proj.weight`, [H, NH * D]],
  ];
  if (opts.qkvBias) t.push([`${p}.self_attn.q_proj.bias`, [NH * D]], [`${p}.self_attn.k_proj.bias`, [KV * D]], [`${p}.self_attn.v_proj.bias`, [KV * D]]);
  if (opts.oBias) t.push([`${p}.self_attn.o_proj.bias`, [H]]);
  if (opts.qk === 'head') t.push([`${p}.self_attn.q_norm.weight`, [D]], [`${p}.self_attn.k_norm.weight`, [D]]);
  if (opts.qk === 'full') t.push([`${p}.self_attn.q_norm.weight`, [NH * D]], [`${p}.self_attn.k_norm.weight`, [KV * D]]);
  return t;
}

function norms(p: string, bias = false, { H } = TINY): TensorList {
  const t: TensorList = [[`${p}.input_layernorm.weight`, [H]], [`${p}.post_attention_layernorm.weight`, [H]]];
  if (bias) t.push([`${p}.input_layernorm.bias`, [H]], [`${p}.post_attention_layernorm.bias`, [H]]);
  return t;
}

function experts(p: string, names: [string, string, string], count = E, width = I, hidden = H): TensorList {
  const t: TensorList = [];
  for (let e = 0; e < count; e++) {
    t.push([`${p}.${e}.${names[0]}.weight`, [width, hidden]], [`${p}.${e}.${names[1]}.weight`, [width, hidden]], [`${p}.${e}.${names[2]}.weight`, [hidden, width]]);
  }
  return t;
}

function mlp(p: string, width: number): TensorList {
  return [[`${p}.gate_proj.weight`, [width, H]], [`${p}.up_proj.weight`, [width, H]], [`${p}.down_proj.weight`, [H, width]]];
}

const commonConfig = (d: SyntheticDims) => ({ hidden_size: d.H, vocab_size: d.V, num_hidden_layers: d.L, num_attention_heads: d.NH, num_key_value_heads: d.KV, head_dim: d.D, max_position_embeddings: 64, rms_norm_eps: 1e-6, dtype: 'bfloat16', tie_word_embeddings: false });
const common = commonConfig(TINY);
const ends = (bias = false, { V, H } = TINY): TensorList => [['model.embed_tokens.weight', [V, H]], ['model.norm.weight', [H]], ...(bias ? [['model.norm.bias', [H]] as [string, number[]]] : []), ['lm_head.weight', [V, H]]];
const layers = (f: (p: string, l: number) => TensorList, count = L): TensorList => Array.from({ length: count }, (_, l) => f(`model.layers.${l}`, l)).flat();

/** Mixtral's layout at sizes `d` (SYNTHETIC's entry at TINY; wider ones reach the tiled prefill kernels). */
export function mixtralModel(d: SyntheticDims = TINY): SyntheticModel {
  return {
    config: { ...commonConfig(d), architectures: ['MixtralForCausalLM'], model_type: 'mixtral', intermediate_size: d.I, num_local_experts: d.E, num_experts_per_tok: 2, rope_theta: 1e6, torch_dtype: 'bfloat16' },
    tensors: [...ends(false, d), ...layers((p) => [...norms(p, false, d), ...attention(p, {}, d), [`${p}.block_sparse_moe.gate.weight`, [d.E, d.H]], ...experts(`${p}.block_sparse_moe.experts`, ['w1', 'w3', 'w2'], d.E, d.I, d.H)], d.L)],
    expect: { numExperts: d.E, topK: 2, moeLayers: Array.from({ length: d.L }, (_, l) => l) },
  };
}

export interface SyntheticModel {
  config: Record<string, unknown>;
  tensors: TensorList;
  /** What the loader should report. */
  expect: { numExperts: number; topK: number; moeLayers: number[] };
}

export const SYNTHETIC: Record<string, SyntheticModel> = {
  MixtralForCausalLM: mixtralModel(),
  Qwen2MoeForCausalLM: {
    config: { ...common, architectures: ['Qwen2MoeForCausalLM'], model_type: 'qwen2_moe', intermediate_size: 24, moe_intermediate_size: I, shared_expert_intermediate_size: 12, num_experts: E, num_experts_per_tok: 2, decoder_sparse_step: 1, mlp_only_layers: [0], norm_topk_prob: false, rope_parameters: { rope_type: 'default', rope_theta: 1e6 } },
    tensors: [
      ...ends(),
      ...layers((p, l) => [
        ...norms(p),
        ...attention(p, { qkvBias: true }),
        ...(l === 0 ? mlp(`${p}.mlp`, 24) : [[`${p}.mlp.gate.weight`, [E, H]] as [string, number[]], ...experts(`${p}.mlp.experts`, ['gate_proj', 'up_proj', 'down_proj']), ...mlp(`${p}.mlp.shared_expert`, 12), [`${p}.mlp.shared_expert_gate.weight`, [1, H]] as [string, number[]]]),
      ]),
    ],
    expect: { numExperts: E, topK: 2, moeLayers: [1] },
  },
  Qwen3MoeForCausalLM: {
    config: { ...common, architectures: ['Qwen3MoeForCausalLM'], model_type: 'qwen3_moe', intermediate_size: 24, moe_intermediate_size: I, num_experts: E, num_experts_per_tok: 2, norm_topk_prob: true, decoder_sparse_step: 1, mlp_only_layers: [] },
    tensors: [...ends(), ...layers((p) => [...norms(p), ...attention(p, { qk: 'head' }), [`${p}.mlp.gate.weight`, [E, H]], ...experts(`${p}.mlp.experts`, ['gate_proj', 'up_proj', 'down_proj'])])],
    expect: { numExperts: E, topK: 2, moeLayers: [0, 1] },
  },
  OlmoeForCausalLM: {
    config: { ...common, architectures: ['OlmoeForCausalLM'], model_type: 'olmoe', intermediate_size: I, num_experts: E, num_experts_per_tok: 2, clip_qkv: 0.5, norm_topk_prob: false },
    tensors: [...ends(), ...layers((p) => [...norms(p), ...attention(p, { qk: 'full' }), [`${p}.mlp.gate.weight`, [E, H]], ...experts(`${p}.mlp.experts`, ['gate_proj', 'up_proj', 'down_proj'])])],
    expect: { numExperts: E, topK: 2, moeLayers: [0, 1] },
  },
  GraniteMoeForCausalLM: {
    config: { ...common, architectures: ['GraniteMoeForCausalLM'], model_type: 'granitemoe', intermediate_size: I, num_local_experts: E, num_experts_per_tok: 2, embedding_multiplier: 12, attention_multiplier: 0.015625, residual_multiplier: 0.22, logits_scaling: 6, tie_word_embeddings: true },
    tensors: [
      ['model.embed_tokens.weight', [V, H]], ['model.norm.weight', [H]],
      ...layers((p) => [...norms(p), ...attention(p), [`${p}.block_sparse_moe.router.layer.weight`, [E, H]], [`${p}.block_sparse_moe.input_linear.weight`, [E, 2 * I, H]], [`${p}.block_sparse_moe.output_linear.weight`, [E, H, I]]]),
    ],
    expect: { numExperts: E, topK: 2, moeLayers: [0, 1] },
  },
  PhimoeForCausalLM: {
    config: { ...common, architectures: ['PhimoeForCausalLM'], model_type: 'phimoe', intermediate_size: I, num_local_experts: E, num_experts_per_tok: 2, router_jitter_noise: 0.01, attention_bias: true, lm_head_bias: true, rope_scaling: null, rope_theta: 1e6 },
    tensors: [...ends(true), ['lm_head.bias', [V]], ...layers((p) => [...norms(p, true), ...attention(p, { qkvBias: true, oBias: true }), [`${p}.block_sparse_moe.gate.weight`, [E, H]], ...experts(`${p}.block_sparse_moe.experts`, ['w1', 'w3', 'w2'])])],
    expect: { numExperts: E, topK: 2, moeLayers: [0, 1] },
  },
  DeepseekV3ForCausalLM: {
    config: {
      ...common, architectures: ['DeepseekV3ForCausalLM'], model_type: 'deepseek_v3', intermediate_size: 24, moe_intermediate_size: I, n_routed_experts: E, n_shared_experts: 1, num_experts_per_tok: 2, n_group: 2, topk_group: 1, routed_scaling_factor: 2.5, norm_topk_prob: true, first_k_dense_replace: 1,
      q_lora_rank: 12, kv_lora_rank: 8, qk_nope_head_dim: 4, qk_rope_head_dim: 4, v_head_dim: 4, head_dim: 4,
      rope_parameters: { rope_type: 'yarn', rope_theta: 10000, factor: 40, mscale: 1, mscale_all_dim: 1, original_max_position_embeddings: 16, beta_fast: 32, beta_slow: 1 },
    },
    tensors: [
      ...ends(),
      ...layers((p, l) => [
        ...norms(p),
        [`${p}.self_attn.q_a_proj.weight`, [12, H]], [`${p}.self_attn.q_a_layernorm.weight`, [12]], [`${p}.self_attn.q_b_proj.weight`, [NH * 8, 12]],
        [`${p}.self_attn.kv_a_proj_with_mqa.weight`, [8 + 4, H]], [`${p}.self_attn.kv_a_layernorm.weight`, [8]], [`${p}.self_attn.kv_b_proj.weight`, [NH * (4 + 4), 8]],
        [`${p}.self_attn.o_proj.weight`, [H, NH * 4]],
        ...(l === 0 ? mlp(`${p}.mlp`, 24) : [[`${p}.mlp.gate.weight`, [E, H]] as [string, number[]], [`${p}.mlp.gate.e_score_correction_bias`, [E]] as [string, number[]], ...experts(`${p}.mlp.experts`, ['gate_proj', 'up_proj', 'down_proj']), ...mlp(`${p}.mlp.shared_experts`, I)]),
      ]),
    ],
    expect: { numExperts: E, topK: 2, moeLayers: [1] },
  },
};

export interface BuildOptions {
  dtype?: SafetensorsDtype;
  /** Split tensors over this many shards with a model.safetensors.index.json. */
  shards?: number;
  dropTensor?: string;
  reshape?: [string, number[]];
  extraFiles?: Record<string, string>;
  /** Fill tensors with seeded random values (else zeros): norms near 1, routers scaled up. */
  randomSeed?: number;
}

/** Random stored values for one tensor, shaped like trained weights closely enough for parity tests. */
function randomTensor(name: string, shape: number[], dtype: SafetensorsDtype, rand: () => number): Uint8Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const fanIn = shape[shape.length - 1] ?? 1;
  const isNorm = /norm\.weight$|layernorm\.weight$/.test(name);
  const isRouter = /(\.gate|router\.layer|router)\.weight$/.test(name) && !name.includes('shared_expert_gate');
  const values = Float32Array.from({ length: n }, () => {
    const u = rand() * 2 - 1;
    if (isNorm) return 1 + 0.2 * u;
    if (name.endsWith('.bias') || name.endsWith('e_score_correction_bias')) return 0.1 * u;
    return (u * (isRouter ? 4 : 1.5)) / Math.sqrt(fanIn);
  });
  return encodeWeights(values, dtype as ComputeDtype);
}

/** The checkpoint folder as ByteSources: config.json, weights (one file or shards + index), extras. */
export function buildCheckpoint(model: SyntheticModel, options: BuildOptions = {}): ByteSource[] {
  const dtype = options.dtype ?? 'BF16';
  const rand = options.randomSeed === undefined ? null : seededRandom(options.randomSeed);
  const tensors = model.tensors
    .filter(([n]) => n !== options.dropTensor)
    .map(([name, shape]) => ({ name, dtype, shape: options.reshape?.[0] === name ? options.reshape[1] : shape }))
    .map((t) => ({ ...t, dtype: t.name.endsWith('e_score_correction_bias') ? ('F32' as const) : t.dtype }))
    .map((t) => ({
      ...t,
      data: rand && isComputeDtype(t.dtype) ? randomTensor(t.name, t.shape, t.dtype, rand) : new Uint8Array(tensorByteLength(t.dtype, t.shape)),
    }));
  const enc = new TextEncoder();
  const files: ByteSource[] = [memorySource(enc.encode(JSON.stringify(model.config)), 'config.json')];
  const shards = options.shards ?? 1;
  if (shards === 1) {
    files.push(memorySource(encodeSafetensors(tensors, { format: 'pt' }), 'model.safetensors'));
  } else {
    const weightMap: Record<string, string> = {};
    for (let s = 0; s < shards; s++) {
      const name = `model-${String(s + 1).padStart(5, '0')}-of-${String(shards).padStart(5, '0')}.safetensors`;
      const part = tensors.filter((_, i) => i % shards === s);
      for (const t of part) weightMap[t.name] = name;
      files.push(memorySource(encodeSafetensors(part, { format: 'pt' }), name));
    }
    files.push(memorySource(enc.encode(JSON.stringify({ metadata: {}, weight_map: weightMap })), 'model.safetensors.index.json'));
  }
  for (const [name, text] of Object.entries(options.extraFiles ?? {})) files.push(memorySource(enc.encode(text), name));
  return files;
}
