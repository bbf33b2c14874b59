// config.json → ModelSpec, one builder per architecture. Defaults are those of each transformers config
// class, so configs that leave a key out mean what they mean in transformers.

import { UnsupportedArchitectureError } from '../checkpoint/errors.ts';
import type { ComputeDtype } from '../checkpoint/dtypes.ts';
import { ConfigReader } from './configReader.ts';
import {
  SUPPORTED_ARCHITECTURES,
  type Architecture,
  type DenseMlp,
  type GqaAttention,
  type LayerSpec,
  type MlaAttention,
  type ModelSpec,
  type MoeMlp,
  type RopeSpec,
  type RoutingRule,
} from './spec.ts';

// ─── shared pieces ──────────────────────────────────────────────────────────────────────────────────────

function architectureOf(cfg: ConfigReader): Architecture {
  const list = cfg.raw['architectures'];
  const name = Array.isArray(list) && typeof list[0] === 'string' ? list[0] : cfg.str('model_type', 'unknown');
  if (!(SUPPORTED_ARCHITECTURES as readonly string[]).includes(name)) {
    throw new UnsupportedArchitectureError(name, SUPPORTED_ARCHITECTURES);
  }
  return name as Architecture;
}

function dtypeOf(cfg: ConfigReader): ComputeDtype | null {
  const name = cfg.has('dtype') ? cfg.str('dtype', '') : cfg.str('torch_dtype', '');
  return ({ bfloat16: 'BF16', float16: 'F16', float32: 'F32' } as Record<string, ComputeDtype>)[name] ?? null;
}

/** RoPE from transformers 5's `rope_parameters` or the older `rope_theta` + `rope_scaling`. */
function ropeOf(cfg: ConfigReader, defaultTheta: number, rotaryDim: number): RopeSpec {
  const params = cfg.object('rope_parameters') ?? cfg.object('rope_scaling') ?? {};
  const rest: Record<string, unknown> = { ...params };
  const theta = typeof params['rope_theta'] === 'number' ? params['rope_theta'] : cfg.num('rope_theta', defaultTheta);
  const type = String(params['rope_type'] ?? params['type'] ?? 'default');
  delete rest['rope_theta'];
  delete rest['rope_type'];
  delete rest['type'];
  // Phi-3-style configs keep the pretraining length at the top level; transformers lets it win
  if (typeof cfg.raw['original_max_position_embeddings'] === 'number') rest['original_max_position_embeddings'] = cfg.raw['original_max_position_embeddings'];
  const partial = cfg.num('partial_rotary_factor', 1);
  return { theta, type, params: rest, rotaryDim: Math.round(rotaryDim * partial) };
}

function gqaOf(cfg: ConfigReader, options: Partial<GqaAttention> = {}): GqaAttention {
  const hidden = cfg.int('hidden_size');
  const numHeads = cfg.int('num_attention_heads');
  const headDim = cfg.int('head_dim', Math.floor(hidden / numHeads));
  return {
    kind: 'gqa',
    numHeads,
    numKvHeads: cfg.int('num_key_value_heads', numHeads),
    headDim,
    qkvBias: false,
    outputBias: false,
    qkNorm: 'none',
    scale: 1 / Math.sqrt(headDim),
    clipQkv: null,
    slidingWindow: null,
    ...options,
  };
}

function baseSpec(cfg: ConfigReader, architecture: Architecture, defaultTheta: number, rotaryDim: number) {
  return {
    architecture,
    vocabSize: cfg.int('vocab_size'),
    hiddenSize: cfg.int('hidden_size'),
    numLayers: cfg.int('num_hidden_layers'),
    maxPositionEmbeddings: cfg.int('max_position_embeddings', 4096),
    dtype: dtypeOf(cfg),
    norm: { kind: 'rms' as const, eps: cfg.num('rms_norm_eps', 1e-6), bias: false },
    rope: ropeOf(cfg, defaultTheta, rotaryDim),
    embeddingMultiplier: 1,
    residualMultiplier: 1,
    logitsScaling: 1,
    tieWordEmbeddings: cfg.bool('tie_word_embeddings', false),
    lmHeadBias: false,
    bosTokenId: cfg.has('bos_token_id') ? cfg.int('bos_token_id') : null,
    eosTokenIds: cfg.intOrList('eos_token_id'),
  };
}

function finish(base: Omit<ModelSpec, 'layers' | 'moeLayers'>, layers: LayerSpec[]): ModelSpec {
  return { ...base, layers, moeLayers: layers.filter((l) => l.mlp.kind === 'moe').map((l) => l.index) };
}

function moe(cfg: ConfigReader, expertKeys: readonly string[], width: string, routing: RoutingRule, extra: Partial<MoeMlp> = {}): MoeMlp {
  return {
    kind: 'moe',
    numExperts: cfg.int(expertKeys),
    topK: cfg.int('num_experts_per_tok'),
    expertIntermediateSize: cfg.int(width),
    routing,
    sharedExpert: null,
    routerCorrectionBias: false,
    ...extra,
  };
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

// ─── one builder per architecture ───────────────────────────────────────────────────────────────────────

function mixtral(cfg: ConfigReader): ModelSpec {
  const attention = gqaOf(cfg, { slidingWindow: cfg.optNum('sliding_window') });
  const base = baseSpec(cfg, 'MixtralForCausalLM', 1e6, attention.headDim);
  const mlp = moe(cfg, ['num_local_experts', 'num_experts'], 'intermediate_size', { kind: 'topk-softmax' });
  return finish({ ...base, norm: { ...base.norm, eps: cfg.num('rms_norm_eps', 1e-5) } }, range(base.numLayers).map((index) => ({ index, attention, mlp })));
}

/** Qwen2/3-MoE: layer L is sparse unless listed in mlp_only_layers or off the decoder_sparse_step grid. */
function qwenMlp(cfg: ConfigReader, index: number, sparse: MoeMlp): DenseMlp | MoeMlp {
  const step = cfg.int('decoder_sparse_step', 1);
  const denseOnly = cfg.intList('mlp_only_layers').includes(index);
  const isSparse = !denseOnly && sparse.numExperts > 0 && step > 0 && (index + 1) % step === 0;
  return isSparse ? sparse : { kind: 'dense', intermediateSize: cfg.int('intermediate_size') };
}

function qwen2Moe(cfg: ConfigReader): ModelSpec {
  const attention = gqaOf(cfg, { qkvBias: true });
  const base = baseSpec(cfg, 'Qwen2MoeForCausalLM', 10000, attention.headDim);
  const sharedWidth = cfg.int('shared_expert_intermediate_size', 0);
  const sparse = moe(cfg, ['num_experts', 'num_local_experts'], 'moe_intermediate_size', {
    kind: 'softmax-topk',
    normalize: cfg.bool('norm_topk_prob', false),
  }, { sharedExpert: sharedWidth > 0 ? { intermediateSize: sharedWidth, gated: true } : null });
  return finish(base, range(base.numLayers).map((index) => ({ index, attention, mlp: qwenMlp(cfg, index, sparse) })));
}

function qwen3Moe(cfg: ConfigReader): ModelSpec {
  const bias = cfg.bool('attention_bias', false);
  const attention = gqaOf(cfg, { qkvBias: bias, outputBias: bias, qkNorm: 'per-head' });
  const base = baseSpec(cfg, 'Qwen3MoeForCausalLM', 10000, attention.headDim);
  const sparse = moe(cfg, ['num_experts', 'num_local_experts'], 'moe_intermediate_size', {
    kind: 'softmax-topk',
    normalize: cfg.bool('norm_topk_prob', false),
  });
  return finish(base, range(base.numLayers).map((index) => ({ index, attention, mlp: qwenMlp(cfg, index, sparse) })));
}

function olmoe(cfg: ConfigReader): ModelSpec {
  const bias = cfg.bool('attention_bias', false);
  const attention = gqaOf(cfg, { qkvBias: bias, outputBias: bias, qkNorm: 'full', clipQkv: cfg.optNum('clip_qkv') });
  const base = baseSpec(cfg, 'OlmoeForCausalLM', 10000, attention.headDim);
  const mlp = moe(cfg, ['num_experts', 'num_local_experts'], 'intermediate_size', {
    kind: 'softmax-topk',
    normalize: cfg.bool('norm_topk_prob', false),
  });
  return finish({ ...base, norm: { ...base.norm, eps: cfg.num('rms_norm_eps', 1e-5) } }, range(base.numLayers).map((index) => ({ index, attention, mlp })));
}

function graniteMoe(cfg: ConfigReader): ModelSpec {
  const bias = cfg.bool('attention_bias', false);
  const attention = gqaOf(cfg, { qkvBias: bias, outputBias: bias, scale: cfg.num('attention_multiplier', 1) });
  const base = baseSpec(cfg, 'GraniteMoeForCausalLM', 10000, attention.headDim);
  const mlp = moe(cfg, ['num_local_experts', 'num_experts'], 'intermediate_size', { kind: 'topk-softmax' });
  return finish(
    {
      ...base,
      embeddingMultiplier: cfg.num('embedding_multiplier', 1),
      residualMultiplier: cfg.num('residual_multiplier', 1),
      logitsScaling: cfg.num('logits_scaling', 1),
    },
    range(base.numLayers).map((index) => ({ index, attention, mlp })),
  );
}

function phimoe(cfg: ConfigReader): ModelSpec {
  const bias = cfg.bool('attention_bias', false);
  const attention = gqaOf(cfg, { qkvBias: bias, outputBias: bias, slidingWindow: cfg.optNum('sliding_window') });
  const base = baseSpec(cfg, 'PhimoeForCausalLM', 1e6, attention.headDim);
  const mlp = moe(cfg, ['num_local_experts', 'num_experts'], 'intermediate_size', {
    kind: 'sparsemixer',
    jitterEps: cfg.num('router_jitter_noise', 0.01),
  });
  return finish(
    { ...base, norm: { kind: 'layer', eps: cfg.num('rms_norm_eps', 1e-5), bias: true }, lmHeadBias: cfg.bool('lm_head_bias', false) },
    range(base.numLayers).map((index) => ({ index, attention, mlp })),
  );
}

/** DeepSeek's YaRN attention correction: 0.1·m·ln(s) + 1 for scale s > 1. */
function yarnMscale(scale: number, mscale: number): number {
  return scale <= 1 ? 1 : 0.1 * mscale * Math.log(scale) + 1;
}

function deepseekV3(cfg: ConfigReader): ModelSpec {
  const qkRope = cfg.int('qk_rope_head_dim');
  const qkNope = cfg.int('qk_nope_head_dim');
  const base = baseSpec(cfg, 'DeepseekV3ForCausalLM', 10000, qkRope);
  let scale = 1 / Math.sqrt(qkNope + qkRope);
  const mscaleAllDim = Number(base.rope.params['mscale_all_dim'] ?? 0);
  const factor = Number(base.rope.params['factor'] ?? 1);
  if (base.rope.type !== 'default' && mscaleAllDim) scale *= yarnMscale(factor, mscaleAllDim) ** 2;
  const attention: MlaAttention = {
    kind: 'mla',
    numHeads: cfg.int('num_attention_heads'),
    qLoraRank: cfg.has('q_lora_rank') ? cfg.int('q_lora_rank') : null,
    kvLoraRank: cfg.int('kv_lora_rank'),
    qkNopeHeadDim: qkNope,
    qkRopeHeadDim: qkRope,
    vHeadDim: cfg.int('v_head_dim'),
    bias: cfg.bool('attention_bias', false),
    scale,
    ropeInterleave: cfg.bool('rope_interleave', true),
  };
  const numShared = cfg.int('n_shared_experts', 0);
  const width = cfg.int('moe_intermediate_size');
  const sparse = moe(cfg, ['n_routed_experts', 'num_local_experts'], 'moe_intermediate_size', {
    kind: 'sigmoid-group-topk',
    numGroups: cfg.int('n_group', 1),
    topkGroups: cfg.int('topk_group', 1),
    normalize: cfg.bool('norm_topk_prob', true),
    scaling: cfg.num('routed_scaling_factor', 1),
  }, { sharedExpert: numShared > 0 ? { intermediateSize: width * numShared, gated: false } : null, routerCorrectionBias: true });
  const firstSparse = cfg.int('first_k_dense_replace', 0);
  const dense: DenseMlp = { kind: 'dense', intermediateSize: cfg.int('intermediate_size') };
  return finish(base, range(base.numLayers).map((index) => ({ index, attention, mlp: index >= firstSparse ? sparse : dense })));
}

const BUILDERS: Record<Architecture, (cfg: ConfigReader) => ModelSpec> = {
  MixtralForCausalLM: mixtral,
  Qwen2MoeForCausalLM: qwen2Moe,
  Qwen3MoeForCausalLM: qwen3Moe,
  OlmoeForCausalLM: olmoe,
  GraniteMoeForCausalLM: graniteMoe,
  PhimoeForCausalLM: phimoe,
  DeepseekV3ForCausalLM: deepseekV3,
};

/** Read a config.json object into a ModelSpec, or throw a typed error naming what is wrong. */
export function specFromConfig(config: Record<string, unknown>): ModelSpec {
  const cfg = new ConfigReader(config);
  return BUILDERS[architectureOf(cfg)](cfg);
}
