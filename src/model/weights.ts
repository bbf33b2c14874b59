// Find every tensor a ModelSpec needs in a checkpoint, check its shape and dtype, and return them by role.
// All problems are collected and reported together. Names are tried in the spellings different
// architectures and transformers versions use; fused expert tensors are oriented by shape.

import type { TensorEntry } from '../checkpoint/checkpoint.ts';
import { isComputeDtype } from '../checkpoint/dtypes.ts';
import { TensorMismatchError, UnsupportedDtypeError } from '../checkpoint/errors.ts';
import type { GqaAttention, LayerSpec, MlaAttention, ModelSpec, MoeMlp } from './spec.ts';

export interface Linear {
  weight: TensorEntry; // [out, in]
  bias: TensorEntry | null; // [out]
}

export interface Norm {
  weight: TensorEntry; // [width]
  bias: TensorEntry | null; // [width]
}

export interface SwiGluWeights {
  gate: TensorEntry; // [I, H]
  up: TensorEntry; // [I, H]
  down: TensorEntry; // [H, I]
}

/** Routed experts as stored: one tensor per expert and projection, or fused 3-D tensors. */
export type ExpertWeights =
  | { layout: 'per-expert'; experts: SwiGluWeights[] }
  | {
      layout: 'fused';
      /** [E, 2I, H] ('out-in') or [E, H, 2I] ('in-out'); gate is the first I outputs, up the next I. */
      gateUp: TensorEntry;
      gateUpOrientation: 'out-in' | 'in-out';
      /** [E, H, I] ('out-in') or [E, I, H] ('in-out'). */
      down: TensorEntry;
      downOrientation: 'out-in' | 'in-out';
    };

export interface MoeWeights {
  kind: 'moe';
  router: TensorEntry; // [E, H]
  correctionBias: TensorEntry | null; // [E]
  experts: ExpertWeights;
  shared: SwiGluWeights | null;
  sharedGate: TensorEntry | null; // [1, H]
}

export interface GqaWeights {
  kind: 'gqa';
  q: Linear; // [heads·d, H]
  k: Linear; // [kvHeads·d, H]
  v: Linear; // [kvHeads·d, H]
  o: Linear; // [H, heads·d]
  qNorm: TensorEntry | null; // [d] per head, or [heads·d] full
  kNorm: TensorEntry | null;
}

export interface MlaWeights {
  kind: 'mla';
  q: Linear | null; // [heads·(nope+rope), H] when there is no q LoRA
  qA: Linear | null; // [qLoraRank, H]
  qANorm: TensorEntry | null; // [qLoraRank]
  qB: Linear | null; // [heads·(nope+rope), qLoraRank]
  kvA: Linear; // [kvLoraRank + rope, H]
  kvANorm: TensorEntry; // [kvLoraRank]
  kvB: Linear; // [heads·(nope+v), kvLoraRank]
  o: Linear; // [H, heads·v]
}

export interface LayerWeights {
  inputNorm: Norm;
  postAttentionNorm: Norm;
  attention: GqaWeights | MlaWeights;
  mlp: ({ kind: 'dense' } & SwiGluWeights) | MoeWeights;
}

export interface ModelWeights {
  embed: TensorEntry; // [V, H]
  layers: LayerWeights[];
  finalNorm: Norm;
  lmHead: TensorEntry; // [V, H]; the embedding when tied
  lmHeadBias: TensorEntry | null; // [V]
}

// ─── lookup with problem collection ─────────────────────────────────────────────────────────────────────

class Lookup {
  readonly problems: string[] = [];
  readonly dtypeProblems: UnsupportedDtypeError[] = [];
  readonly used = new Set<string>();

  constructor(private readonly tensors: Map<string, TensorEntry>) {}

  find(names: readonly string[]): TensorEntry | undefined {
    for (const n of names) {
      const t = this.tensors.get(n);
      if (t) return t;
    }
    return undefined;
  }

  /** The first of `names` present, checked against `shape`; a problem is recorded when absent or wrong. */
  need(names: string | readonly string[], shape: readonly number[]): TensorEntry {
    const list = typeof names === 'string' ? [names] : names;
    const t = this.find(list);
    if (!t) {
      const also = list.length > 1 ? ` (also looked for ${list.slice(1).join(', ')})` : '';
      this.problems.push(`missing ${list[0]}${also}: expected shape [${shape.join(', ')}]`);
      return { name: list[0] ?? '?', dtype: 'F32', shape: [...shape], offset: 0, byteLength: 0 } as unknown as TensorEntry;
    }
    return this.check(t, shape);
  }

  check(t: TensorEntry, shape: readonly number[]): TensorEntry {
    this.used.add(t.name);
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      this.problems.push(`${t.name}: shape [${t.shape.join(', ')}], expected [${shape.join(', ')}]`);
    }
    if (!isComputeDtype(t.dtype)) this.dtypeProblems.push(new UnsupportedDtypeError(t.name, t.dtype));
    return t;
  }

  optional(names: string | readonly string[], shape: readonly number[]): TensorEntry | null {
    const t = this.find(typeof names === 'string' ? [names] : names);
    return t ? this.check(t, shape) : null;
  }

  linear(prefix: string, out: number, inp: number, bias: boolean): Linear {
    return { weight: this.need(`${prefix}.weight`, [out, inp]), bias: bias ? this.need(`${prefix}.bias`, [out]) : null };
  }

  norm(prefix: string, width: number, bias: boolean): Norm {
    return { weight: this.need(`${prefix}.weight`, [width]), bias: bias ? this.need(`${prefix}.bias`, [width]) : null };
  }

  swiglu(prefix: string, names: readonly [string, string, string], H: number, I: number): SwiGluWeights {
    const [gate, up, down] = names;
    return {
      gate: this.need(`${prefix}.${gate}.weight`, [I, H]),
      up: this.need(`${prefix}.${up}.weight`, [I, H]),
      down: this.need(`${prefix}.${down}.weight`, [H, I]),
    };
  }
}

// ─── per part ───────────────────────────────────────────────────────────────────────────────────────────

function gqaWeights(at: Lookup, p: string, a: GqaAttention, H: number): GqaWeights {
  const qOut = a.numHeads * a.headDim;
  const kvOut = a.numKvHeads * a.headDim;
  const norm = (name: string, full: number) =>
    a.qkNorm === 'none' ? null : at.need(`${p}.self_attn.${name}.weight`, [a.qkNorm === 'per-head' ? a.headDim : full]);
  return {
    kind: 'gqa',
    q: at.linear(`${p}.self_attn.q_proj`, qOut, H, a.qkvBias),
    k: at.linear(`${p}.self_attn.k_proj`, kvOut, H, a.qkvBias),
    v: at.linear(`${p}.self_attn.v_proj`, kvOut, H, a.qkvBias),
    o: at.linear(`${p}.self_attn.o_proj`, H, qOut, a.outputBias),
    qNorm: norm('q_norm', qOut),
    kNorm: norm('k_norm', kvOut),
  };
}

function mlaWeights(at: Lookup, p: string, a: MlaAttention, H: number): MlaWeights {
  const qHead = a.qkNopeHeadDim + a.qkRopeHeadDim;
  const s = `${p}.self_attn`;
  const lora = a.qLoraRank;
  return {
    kind: 'mla',
    q: lora === null ? at.linear(`${s}.q_proj`, a.numHeads * qHead, H, false) : null,
    qA: lora === null ? null : at.linear(`${s}.q_a_proj`, lora, H, a.bias),
    qANorm: lora === null ? null : at.need(`${s}.q_a_layernorm.weight`, [lora]),
    qB: lora === null ? null : at.linear(`${s}.q_b_proj`, a.numHeads * qHead, lora, false),
    kvA: at.linear(`${s}.kv_a_proj_with_mqa`, a.kvLoraRank + a.qkRopeHeadDim, H, a.bias),
    kvANorm: at.need(`${s}.kv_a_layernorm.weight`, [a.kvLoraRank]),
    kvB: at.linear(`${s}.kv_b_proj`, a.numHeads * (a.qkNopeHeadDim + a.vHeadDim), a.kvLoraRank, false),
    o: at.linear(`${s}.o_proj`, H, a.numHeads * a.vHeadDim, a.bias),
  };
}

const MOE_PREFIXES = ['mlp', 'block_sparse_moe'] as const;
const EXPERT_NAMES = [
  ['gate_proj', 'up_proj', 'down_proj'],
  ['w1', 'w3', 'w2'],
] as const;

/** Orientation of a fused [E, a, b] tensor that should hold `out` × `inp` per expert. */
function orientation(t: TensorEntry, E: number, out: number, inp: number): 'out-in' | 'in-out' | 'ambiguous' | 'wrong' {
  const [e, a, b] = t.shape;
  if (t.shape.length !== 3 || e !== E) return 'wrong';
  if (a === out && b === inp) return out === inp ? 'ambiguous' : 'out-in';
  if (a === inp && b === out) return 'in-out';
  return 'wrong';
}

function expertWeights(at: Lookup, p: string, m: MoeMlp, H: number): ExpertWeights {
  const { numExperts: E, expertIntermediateSize: I } = m;
  for (const prefix of MOE_PREFIXES) {
    for (const names of EXPERT_NAMES) {
      if (at.find([`${p}.${prefix}.experts.0.${names[0]}.weight`])) {
        return {
          layout: 'per-expert',
          experts: Array.from({ length: E }, (_, e) => at.swiglu(`${p}.${prefix}.experts.${e}`, names, H, I)),
        };
      }
    }
    const gateUp = at.find([`${p}.${prefix}.experts.gate_up_proj`, `${p}.${prefix}.experts.gate_up_proj.weight`, `${p}.${prefix}.input_linear.weight`]);
    const down = at.find([`${p}.${prefix}.experts.down_proj`, `${p}.${prefix}.experts.down_proj.weight`, `${p}.${prefix}.output_linear.weight`]);
    if (gateUp && down) {
      let gateUpOrientation = orientation(gateUp, E, 2 * I, H);
      let downOrientation = orientation(down, E, H, I);
      // A square tensor cannot say its orientation; its partner (never square at the same time) can.
      if (gateUpOrientation === 'ambiguous' && downOrientation !== 'wrong') gateUpOrientation = downOrientation === 'ambiguous' ? 'out-in' : downOrientation;
      if (downOrientation === 'ambiguous' && gateUpOrientation !== 'wrong') downOrientation = gateUpOrientation;
      at.used.add(gateUp.name).add(down.name);
      if (gateUpOrientation === 'wrong' || gateUpOrientation === 'ambiguous') {
        at.problems.push(`${gateUp.name}: shape [${gateUp.shape.join(', ')}], expected [${E}, ${2 * I}, ${H}] or [${E}, ${H}, ${2 * I}]`);
      }
      if (downOrientation === 'wrong' || downOrientation === 'ambiguous') {
        at.problems.push(`${down.name}: shape [${down.shape.join(', ')}], expected [${E}, ${H}, ${I}] or [${E}, ${I}, ${H}]`);
      }
      for (const t of [gateUp, down]) if (!isComputeDtype(t.dtype)) at.dtypeProblems.push(new UnsupportedDtypeError(t.name, t.dtype));
      return {
        layout: 'fused',
        gateUp,
        down,
        gateUpOrientation: gateUpOrientation === 'in-out' ? 'in-out' : 'out-in',
        downOrientation: downOrientation === 'in-out' ? 'in-out' : 'out-in',
      };
    }
  }
  at.problems.push(
    `missing the experts of layer ${p.split('.').pop()}: expected ${p}.mlp.experts.{0..${E - 1}}.{gate_proj,up_proj,down_proj}.weight ` +
      `(or block_sparse_moe.experts.*.{w1,w3,w2}, or fused experts.gate_up_proj + experts.down_proj, or input_linear + output_linear)`,
  );
  return { layout: 'per-expert', experts: [] };
}

function moeWeights(at: Lookup, p: string, m: MoeMlp, H: number): MoeWeights {
  const router = at.need(
    MOE_PREFIXES.flatMap((x) => [`${p}.${x}.gate.weight`, `${p}.${x}.router.layer.weight`, `${p}.${x}.router.weight`]),
    [m.numExperts, H],
  );
  const shared = m.sharedExpert;
  const sharedPrefix = at.find([`${p}.mlp.shared_expert.gate_proj.weight`]) ? `${p}.mlp.shared_expert` : `${p}.mlp.shared_experts`;
  return {
    kind: 'moe',
    router,
    correctionBias: m.routerCorrectionBias ? at.need(`${p}.mlp.gate.e_score_correction_bias`, [m.numExperts]) : null,
    experts: expertWeights(at, p, m, H),
    shared: shared ? at.swiglu(sharedPrefix, EXPERT_NAMES[0], H, shared.intermediateSize) : null,
    sharedGate: shared?.gated ? at.need(`${p}.mlp.shared_expert_gate.weight`, [1, H]) : null,
  };
}

function layerWeights(at: Lookup, spec: ModelSpec, layer: LayerSpec): LayerWeights {
  const H = spec.hiddenSize;
  const p = `model.layers.${layer.index}`;
  const bias = spec.norm.bias;
  return {
    inputNorm: at.norm(`${p}.input_layernorm`, H, bias),
    postAttentionNorm: at.norm(`${p}.post_attention_layernorm`, H, bias),
    attention: layer.attention.kind === 'gqa' ? gqaWeights(at, p, layer.attention, H) : mlaWeights(at, p, layer.attention, H),
    mlp:
      layer.mlp.kind === 'moe'
        ? moeWeights(at, p, layer.mlp, H)
        : { kind: 'dense', ...at.swiglu(`${p}.mlp`, EXPERT_NAMES[0], H, layer.mlp.intermediateSize) },
  };
}

/** Every tensor the spec needs, by role; throws TensorMismatchError or UnsupportedDtypeError. */
export function resolveWeights(spec: ModelSpec, tensors: Map<string, TensorEntry>): ModelWeights {
  const at = new Lookup(tensors);
  const { vocabSize: V, hiddenSize: H } = spec;
  const embed = at.need('model.embed_tokens.weight', [V, H]);
  const layers = spec.layers.map((layer) => layerWeights(at, spec, layer));
  const finalNorm = at.norm('model.norm', H, spec.norm.bias);
  const lmHead = spec.tieWordEmbeddings ? (at.optional('lm_head.weight', [V, H]) ?? embed) : at.need('lm_head.weight', [V, H]);
  const lmHeadBias = spec.lmHeadBias ? at.need('lm_head.bias', [V]) : null;
  if (at.problems.length > 0) throw new TensorMismatchError([...at.problems, ...at.dtypeProblems.map((e) => e.message)]);
  const firstDtypeProblem = at.dtypeProblems[0];
  if (firstDtypeProblem) throw firstDtypeProblem;
  return { embed, layers, finalNorm, lmHead, lmHeadBias };
}

/** Every tensor entry in a ModelWeights, once each (a tied lm_head is the embedding). */
export function weightTensors(weights: ModelWeights): TensorEntry[] {
  const found = new Set<TensorEntry>();
  const visit = (value: unknown): void => {
    if (value === null || typeof value !== 'object') return;
    if ('file' in value && 'shape' in value) found.add(value as TensorEntry);
    else for (const v of Object.values(value)) visit(v);
  };
  visit(weights);
  return [...found];
}
