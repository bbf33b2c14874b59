// Inverse frequencies and the attention factor for each RoPE variant, as transformers 5.17's
// modeling_rope_utils computes them (in f32). Two variants depend on the length of the sequence a forward
// call reaches (seqLen = its last position + 1), the way transformers' dynamic_rope_update applies them:
// - dynamic (NTK): past max_position_embeddings the base grows with seqLen; every call uses its own;
// - longrope: long_factor once seqLen passes original_max_position_embeddings, short_factor before. PhiMoE's
//   rotary module differs (modeling_phimoe.py): it always uses short_factor and switches the cos/sin scale
//   between short_mscale and long_mscale at that length instead.
// transformers keeps dynamic NTK's frequencies between calls until a shorter sequence resets them; here
// every call starts from its own seqLen, which is the same for one generation from a fresh model.

import { CheckpointError } from '../checkpoint/errors.ts';
import type { RopeSpec } from './spec.ts';

export class RopeUnsupportedError extends CheckpointError {
  override name = 'RopeUnsupportedError';
}

export interface RopeFrequencies {
  invFreq: Float32Array; // [rotaryDim / 2]
  attentionFactor: number;
}

/** What a forward call over positions < seqLen rotates with. */
export interface RopeSchedule {
  /** True when every call uses the same frequencies (one table for the whole context). */
  fixed: boolean;
  forCall(seqLen: number): RopeFrequencies;
  /**
   * PhiMoE: the position whose decode step instead runs the whole sequence again without the cache (the
   * first step past the pretraining length, where the scale changes), as its prepare_inputs_for_generation does.
   */
  recomputeAt?: number;
}

const num = (p: Record<string, unknown>, key: string, fallback?: number): number => {
  const v = p[key];
  if (typeof v === 'number') return v;
  if (fallback !== undefined) return fallback;
  throw new RopeUnsupportedError(`rope parameters need "${key}"`);
};

/** base^(2i/dim) for i < dim/2, each step rounded to f32 as torch computes it. */
function basePowers(base: number, dim: number): Float32Array {
  return Float32Array.from({ length: dim / 2 }, (_, i) => Math.fround(base ** Math.fround((2 * i) / dim)));
}

function defaultInvFreq(theta: number, dim: number): Float32Array {
  return basePowers(theta, dim).map((p) => 1 / p);
}

const yarnMscale = (scale: number, mscale = 1) => (scale <= 1 ? 1 : 0.1 * mscale * Math.log(scale) + 1);

const factors = (p: Record<string, unknown>, key: string, dim: number): number[] => {
  const v = p[key];
  if (!Array.isArray(v) || v.length !== dim / 2 || !v.every((x) => typeof x === 'number')) {
    throw new RopeUnsupportedError(`rope parameters need "${key}": ${dim / 2} numbers (rotary dims / 2), got ${JSON.stringify(v)?.slice(0, 80)}`);
  }
  return v as number[];
};

/** The RoPE schedule of a model: fixed frequencies, or frequencies per call for dynamic and longrope. */
export function ropeSchedule(rope: RopeSpec, maxPositionEmbeddings: number, architecture = ''): RopeSchedule {
  const dim = rope.rotaryDim;
  const p = rope.params;
  if (rope.type === 'dynamic') {
    const factor = num(p, 'factor');
    return {
      fixed: false,
      forCall(seqLen) {
        const length = Math.max(seqLen, maxPositionEmbeddings);
        const base = Math.fround(rope.theta * ((factor * length) / maxPositionEmbeddings - (factor - 1)) ** (dim / (dim - 2)));
        return { invFreq: defaultInvFreq(base, dim), attentionFactor: 1 };
      },
    };
  }
  if (rope.type === 'longrope') {
    const original = num(p, 'original_max_position_embeddings');
    const short = factors(p, 'short_factor', dim);
    const long = factors(p, 'long_factor', dim);
    const powers = basePowers(rope.theta, dim);
    const scaled = (ext: number[]) => powers.map((power, i) => 1 / Math.fround(ext[i]! * power));
    const [shortFreq, longFreq] = [scaled(short), scaled(long)];
    if (architecture === 'PhimoeForCausalLM') {
      const shortScale = num(p, 'short_mscale');
      const longScale = num(p, 'long_mscale');
      return { fixed: false, recomputeAt: original, forCall: (seqLen) => ({ invFreq: shortFreq, attentionFactor: seqLen > original ? longScale : shortScale }) };
    }
    const factor = typeof p['factor'] === 'number' ? p['factor'] : maxPositionEmbeddings / original;
    const attentionFactor = typeof p['attention_factor'] === 'number' ? p['attention_factor'] : factor <= 1 ? 1 : Math.sqrt(1 + Math.log(factor) / Math.log(original));
    return { fixed: false, forCall: (seqLen) => ({ invFreq: seqLen > original ? longFreq : shortFreq, attentionFactor }) };
  }
  const frequencies = fixedFrequencies(rope, maxPositionEmbeddings);
  return { fixed: true, forCall: () => frequencies };
}

/** The frequencies of a forward call over positions < seqLen (fixed variants ignore seqLen). */
export function ropeFrequencies(rope: RopeSpec, maxPositionEmbeddings: number, seqLen = 1, architecture = ''): RopeFrequencies {
  return ropeSchedule(rope, maxPositionEmbeddings, architecture).forCall(seqLen);
}

function fixedFrequencies(rope: RopeSpec, maxPositionEmbeddings: number): RopeFrequencies {
  const dim = rope.rotaryDim;
  const p = rope.params;
  const base = defaultInvFreq(rope.theta, dim);
  switch (rope.type) {
    case 'default':
      return { invFreq: base, attentionFactor: 1 };
    case 'linear':
      return { invFreq: base.map((f) => f / num(p, 'factor')), attentionFactor: 1 };
    case 'llama3': {
      const factor = num(p, 'factor');
      const low = num(p, 'low_freq_factor');
      const high = num(p, 'high_freq_factor');
      const old = num(p, 'original_max_position_embeddings');
      const invFreq = base.map((f) => {
        const wavelen = (2 * Math.PI) / f;
        if (wavelen < old / high) return f;
        if (wavelen > old / low) return f / factor;
        const smooth = (old / wavelen - low) / (high - low);
        return (1 - smooth) * (f / factor) + smooth * f;
      });
      return { invFreq, attentionFactor: 1 };
    }
    case 'yarn': {
      const factor = num(p, 'factor');
      const mscale = typeof p['mscale'] === 'number' ? p['mscale'] : 0;
      const mscaleAllDim = typeof p['mscale_all_dim'] === 'number' ? p['mscale_all_dim'] : 0;
      const attentionFactor =
        typeof p['attention_factor'] === 'number'
          ? p['attention_factor']
          : mscale && mscaleAllDim
            ? yarnMscale(factor, mscale) / yarnMscale(factor, mscaleAllDim)
            : yarnMscale(factor);
      const betaFast = num(p, 'beta_fast', 32);
      const betaSlow = num(p, 'beta_slow', 1);
      const original = num(p, 'original_max_position_embeddings', maxPositionEmbeddings);
      const correctionDim = (rotations: number) => (dim * Math.log(original / (rotations * 2 * Math.PI))) / (2 * Math.log(rope.theta));
      const truncate = p['truncate'] !== false;
      let lo = correctionDim(betaFast);
      let hi = correctionDim(betaSlow);
      if (truncate) [lo, hi] = [Math.floor(lo), Math.ceil(hi)];
      lo = Math.max(lo, 0);
      hi = Math.min(hi, dim - 1);
      if (lo === hi) hi += 0.001;
      const invFreq = base.map((extrapolation, i) => {
        const ramp = Math.min(1, Math.max(0, (i - lo) / (hi - lo)));
        const extrapolationFactor = 1 - ramp;
        return (extrapolation / factor) * (1 - extrapolationFactor) + extrapolation * extrapolationFactor;
      });
      return { invFreq, attentionFactor };
    }
    default:
      throw new RopeUnsupportedError(`RoPE type "${rope.type}" is not in the engine yet (supported: default, linear, dynamic, yarn, longrope, llama3)`);
  }
}
