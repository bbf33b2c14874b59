// Inverse frequencies and the attention factor for each RoPE variant, as transformers'
// modeling_rope_utils computes them (in f32). Variants whose frequencies depend on the sequence length
// (dynamic, longrope) are refused until the engine supports them.

import { CheckpointError } from '../checkpoint/errors.ts';
import type { RopeSpec } from './spec.ts';

export class RopeUnsupportedError extends CheckpointError {
  override name = 'RopeUnsupportedError';
}

export interface RopeFrequencies {
  invFreq: Float32Array; // [rotaryDim / 2]
  attentionFactor: number;
}

const num = (p: Record<string, unknown>, key: string, fallback?: number): number => {
  const v = p[key];
  if (typeof v === 'number') return v;
  if (fallback !== undefined) return fallback;
  throw new RopeUnsupportedError(`rope parameters need "${key}"`);
};

function defaultInvFreq(theta: number, dim: number): Float32Array {
  return Float32Array.from({ length: dim / 2 }, (_, i) => 1 / Math.fround(theta ** Math.fround((2 * i) / dim)));
}

const yarnMscale = (scale: number, mscale = 1) => (scale <= 1 ? 1 : 0.1 * mscale * Math.log(scale) + 1);

export function ropeFrequencies(rope: RopeSpec, maxPositionEmbeddings: number): RopeFrequencies {
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
      throw new RopeUnsupportedError(`RoPE type "${rope.type}" is not in the engine yet (supported: default, linear, llama3, yarn)`);
  }
}
