// The normalised description of a model that the engine runs, whatever architecture or transformers
// version wrote its config. Sizes in elements; H = hidden size, E = routed experts, I = expert width.

import type { ComputeDtype } from '../checkpoint/dtypes.ts';

export const SUPPORTED_ARCHITECTURES = [
  'MixtralForCausalLM',
  'Qwen2MoeForCausalLM',
  'Qwen3MoeForCausalLM',
  'OlmoeForCausalLM',
  'GraniteMoeForCausalLM',
  'PhimoeForCausalLM',
  'DeepseekV3ForCausalLM',
] as const;
export type Architecture = (typeof SUPPORTED_ARCHITECTURES)[number];

/** How router logits become expert choices and combine weights (../shared/MOE_ARCHITECTURES.md). */
export type RoutingRule =
  /** top-k of softmax(all logits); weights are those probabilities, renormalised when `normalize`. */
  | { kind: 'softmax-topk'; normalize: boolean }
  /** top-k of the logits; weights = softmax over the k chosen logits. */
  | { kind: 'topk-softmax' }
  /** PhiMoE's sparsemixer (k = 2) with its jitter threshold. */
  | { kind: 'sparsemixer'; jitterEps: number }
  /** DeepSeek-V3: sigmoid scores, bias-corrected group-limited choice, renormalised, scaled. */
  | { kind: 'sigmoid-group-topk'; numGroups: number; topkGroups: number; normalize: boolean; scaling: number };

export type NormSpec = { kind: 'rms' | 'layer'; eps: number; bias: boolean };

export interface RopeSpec {
  theta: number;
  /** 'default', 'linear', 'dynamic', 'yarn', 'longrope', 'llama3' as configs spell them. */
  type: string;
  /** The remaining rope_parameters / rope_scaling fields, as given. */
  params: Record<string, unknown>;
  /** How many dimensions of each head rotate. */
  rotaryDim: number;
}

export interface GqaAttention {
  kind: 'gqa';
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  qkvBias: boolean;
  outputBias: boolean;
  /** RMSNorm on q and k: per head over headDim (Qwen3-MoE), over the whole projection (OLMoE), or none. */
  qkNorm: 'none' | 'per-head' | 'full';
  /** Multiplies q·k: 1/√headDim unless the config sets it (GraniteMoE's attention_multiplier). */
  scale: number;
  /** Clamp q, k, v to ±clipQkv after the q/k norms (OLMoE), or null. */
  clipQkv: number | null;
  slidingWindow: number | null;
}

export interface MlaAttention {
  kind: 'mla';
  numHeads: number;
  /** Low-rank q projection width, or null for a full q_proj. */
  qLoraRank: number | null;
  kvLoraRank: number;
  qkNopeHeadDim: number;
  qkRopeHeadDim: number;
  vHeadDim: number;
  bias: boolean;
  scale: number;
  /** RoPE on interleaved pairs (2i, 2i+1), de-interleaved first, as DeepSeek-V3's rope_interleave. */
  ropeInterleave: boolean;
}

export interface DenseMlp {
  kind: 'dense';
  intermediateSize: number;
}

export interface MoeMlp {
  kind: 'moe';
  numExperts: number;
  topK: number;
  expertIntermediateSize: number;
  routing: RoutingRule;
  /** Always-on expert(s) added to the routed output; `gated`: scaled by sigmoid(shared_expert_gate · x). */
  sharedExpert: { intermediateSize: number; gated: boolean } | null;
  /** DeepSeek-V3's e_score_correction_bias [E], used for choosing only. */
  routerCorrectionBias: boolean;
}

export interface LayerSpec {
  index: number;
  attention: GqaAttention | MlaAttention;
  mlp: DenseMlp | MoeMlp;
}

export interface ModelSpec {
  architecture: Architecture;
  vocabSize: number;
  hiddenSize: number;
  numLayers: number;
  maxPositionEmbeddings: number;
  /** The dtype config.json declares (the tensors' own dtypes are checked separately). */
  dtype: ComputeDtype | null;
  norm: NormSpec;
  rope: RopeSpec;
  /** Embeddings × this (GraniteMoE), else 1. */
  embeddingMultiplier: number;
  /** Attention and MLP outputs × this before the residual add (GraniteMoE), else 1. */
  residualMultiplier: number;
  /** Final logits ÷ this (GraniteMoE), else 1. */
  logitsScaling: number;
  tieWordEmbeddings: boolean;
  lmHeadBias: boolean;
  layers: LayerSpec[];
  /** Indices of the MoE layers, ascending. */
  moeLayers: number[];
  bosTokenId: number | null;
  eosTokenIds: number[];
}

export function isMoe(mlp: DenseMlp | MoeMlp): mlp is MoeMlp {
  return mlp.kind === 'moe';
}
