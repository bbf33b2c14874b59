// Plain-TS references for the per-token layers and the expert FFN, written from the PyTorch they mirror
// (transformers' modeling files), in f64 arithmetic over f32 inputs. Weights are already-decoded f32.

/** x [T, H] = table[ids] · scale */
export function embedRef(ids: ArrayLike<number>, table: Float32Array, hidden: number, scale: number): Float32Array {
  const out = new Float32Array(ids.length * hidden);
  for (let t = 0; t < ids.length; t++) for (let h = 0; h < hidden; h++) out[t * hidden + h] = table[ids[t]! * hidden + h]! * scale;
  return out;
}

/** RMSNorm: x · rsqrt(mean(x²) + eps) · w;  LayerNorm: (x − mean) · rsqrt(var + eps) · w + b */
export function normRef(x: Float32Array, width: number, w: Float32Array, b: Float32Array | null, eps: number, layerNorm: boolean): Float32Array {
  const out = new Float32Array(x.length);
  for (let r = 0; r < x.length / width; r++) {
    const row = x.subarray(r * width, (r + 1) * width);
    const mean = layerNorm ? row.reduce((a, v) => a + v, 0) / width : 0;
    const variance = row.reduce((a, v) => a + (v - mean) ** 2, 0) / width;
    const inv = 1 / Math.sqrt(variance + eps);
    for (let i = 0; i < width; i++) out[r * width + i] = (row[i]! - mean) * inv * w[i]! + (b ? b[i]! : 0);
  }
  return out;
}

/** F.linear: y [T, N] = x [T, K] · Wᵀ (W [N, K]) + b */
export function linearRef(x: Float32Array, w: Float32Array, b: Float32Array | null, K: number): Float32Array {
  const T = x.length / K;
  const N = w.length / K;
  const y = new Float32Array(T * N);
  for (let t = 0; t < T; t++) {
    for (let n = 0; n < N; n++) {
      let acc = 0;
      for (let k = 0; k < K; k++) acc += x[t * K + k]! * w[n * K + k]!;
      y[t * N + n] = acc + (b ? b[n]! : 0);
    }
  }
  return y;
}

/**
 * apply_rotary_pos_emb with rotate_half on x [T, heads, d]: rotaryDim dims from `offset` rotate. With
 * `interleaved`, pairs (2i, 2i+1) are first regrouped as (i, i + half), as apply_rotary_pos_emb_interleave.
 */
export function ropeRef(
  x: Float32Array, heads: number, d: number, rotaryDim: number, pos0: number, invFreq: Float32Array, attentionFactor: number,
  offset = 0, interleaved = false,
): Float32Array {
  const out = x.slice();
  const half = rotaryDim / 2;
  const T = x.length / (heads * d);
  for (let t = 0; t < T; t++) {
    for (let h = 0; h < heads; h++) {
      const base = (t * heads + h) * d + offset;
      for (let i = 0; i < half; i++) {
        const angle = Math.fround((pos0 + t) * invFreq[i]!);
        const c = Math.cos(angle) * attentionFactor;
        const s = Math.sin(angle) * attentionFactor;
        const a = x[base + (interleaved ? 2 * i : i)]!;
        const b = x[base + (interleaved ? 2 * i + 1 : i + half)]!;
        out[base + i] = a * c - b * s;
        out[base + i + half] = b * c + a * s;
      }
    }
  }
  return out;
}

/** Causal GQA attention of q [T, heads, d] over caches [P, kvHeads, d|dv], queries at pos0 + t. */
export function attentionRef(
  q: Float32Array, k: Float32Array, v: Float32Array,
  s: { numHeads: number; numKvHeads: number; headDim: number; valueDim: number; pos0: number; scale: number; window: number | null },
): Float32Array {
  const { numHeads: NH, numKvHeads: NKV, headDim: d, valueDim: dv } = s;
  const T = q.length / (NH * d);
  const out = new Float32Array(T * NH * dv);
  for (let t = 0; t < T; t++) {
    const last = s.pos0 + t;
    const first = s.window ? Math.max(0, last + 1 - s.window) : 0;
    for (let h = 0; h < NH; h++) {
      const kvh = Math.floor(h / (NH / NKV));
      const scores: number[] = [];
      for (let p = first; p <= last; p++) {
        let dot = 0;
        for (let i = 0; i < d; i++) dot += q[(t * NH + h) * d + i]! * k[(p * NKV + kvh) * d + i]!;
        scores.push(dot * s.scale);
      }
      const max = Math.max(...scores);
      const exps = scores.map((x) => Math.exp(x - max));
      const sum = exps.reduce((a, b) => a + b, 0);
      for (let j = 0; j < dv; j++) {
        let acc = 0;
        exps.forEach((e, idx) => (acc += e * v[((first + idx) * NKV + kvh) * dv + j]!));
        out[(t * NH + h) * dv + j] = acc / sum;
      }
    }
  }
  return out;
}

const silu = (x: number) => x / (1 + Math.exp(-x));

/**
 * The MoE block's expert part, as the loop in transformers' sparse MoE blocks:
 *   out[t] = Σ_slot weights[t, slot] · down_e(silu(gate_e x_t) · up_e x_t),  e = ids[t, slot]
 * Experts given per expert as {gate [I, H], up [I, H], down [H, I]}.
 */
export function expertFfnRef(
  x: Float32Array, ids: ArrayLike<number>, weights: ArrayLike<number>, topK: number, H: number,
  experts: { gate: Float32Array; up: Float32Array; down: Float32Array }[],
): Float32Array {
  const T = x.length / H;
  const out = new Float32Array(T * H);
  for (let t = 0; t < T; t++) {
    const xt = x.subarray(t * H, (t + 1) * H);
    for (let slot = 0; slot < topK; slot++) {
      const e = experts[ids[t * topK + slot]!]!;
      const I = e.gate.length / H;
      const hidden = new Float64Array(I);
      for (let i = 0; i < I; i++) {
        let g = 0;
        let u = 0;
        for (let c = 0; c < H; c++) {
          g += xt[c]! * e.gate[i * H + c]!;
          u += xt[c]! * e.up[i * H + c]!;
        }
        hidden[i] = silu(g) * u;
      }
      for (let h = 0; h < H; h++) {
        let acc = 0;
        for (let i = 0; i < I; i++) acc += e.down[h * I + i]! * hidden[i]!;
        out[t * H + h] = out[t * H + h]! + weights[t * topK + slot]! * acc;
      }
    }
  }
  return out;
}

export function argmaxRef(logits: Float32Array, width: number): number[] {
  const ids: number[] = [];
  for (let r = 0; r < logits.length / width; r++) {
    let best = 0;
    for (let i = 1; i < width; i++) if (logits[r * width + i]! > logits[r * width + best]!) best = i;
    ids.push(best);
  }
  return ids;
}

/** temperature → top-k → top-p (HF's warpers: ties at a cut are kept) → inverse CDF over ids at u. */
export function sampleRef(logits: Float32Array, s: { temperature: number; topK: number; topP: number }, u: number): number {
  const scaled = Array.from(logits, (l) => l / s.temperature);
  const top = Math.max(...scaled);
  const sorted = [...scaled].sort((a, b) => b - a);
  let threshold = s.topK > 0 && s.topK < scaled.length ? sorted[s.topK - 1]! : -Infinity;
  if (s.topP < 1) {
    const kept = sorted.filter((v) => v >= threshold);
    const total = kept.reduce((a, v) => a + Math.exp(v - top), 0);
    let mass = 0;
    for (const v of kept) {
      mass += Math.exp(v - top);
      if (mass >= s.topP * total) {
        threshold = v;
        break;
      }
    }
  }
  const weights = scaled.map((v) => (v >= threshold ? Math.exp(v - top) : 0));
  let target = u * weights.reduce((a, b) => a + b, 0);
  for (let i = 0; i < weights.length; i++) {
    if (target < weights[i]!) return i;
    target -= weights[i]!;
  }
  return weights.map((w, i) => (w > 0 ? i : -1)).filter((i) => i >= 0).pop()!;
}
