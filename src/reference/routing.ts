// Plain-TS references of the routing rules, transcribed from transformers (PhiMoE's sparsemixer in eval
// mode; DeepSeek-V3's route_tokens_to_experts), with ties to the lower expert id.

import type { RoutingRule } from '../model/spec.ts';
import { softmaxTopKReference } from './softmaxTopK.ts';

export interface RoutingChoice {
  expertIds: number[]; // [T·k]
  weights: number[]; // [T·k]
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

function argmaxExcept(values: number[], excluded: Set<number>): number {
  let best = -1;
  values.forEach((v, i) => {
    if (!excluded.has(i) && (best < 0 || v > values[best]!)) best = i;
  });
  return best;
}

function sparsemixer(row: number[], eps: number): [number[], number[]] {
  const ids: number[] = [];
  const weights: number[] = [];
  const excluded = new Set<number>();
  for (let pick = 0; pick < 2; pick++) {
    const index = argmaxExcept(row, excluded);
    const max = row[index]!;
    // masked_fill where (max − s) / clamp(|s|, min=max) > 2·eps, then softmax; gather the pick
    const kept = row.map((s, i) => (!excluded.has(i) && (max - s) / Math.max(Math.abs(s), max) <= 2 * eps ? Math.exp(s - max) : 0));
    weights.push(1 / kept.reduce((a, b) => a + b, 0));
    ids.push(index);
    excluded.add(index);
  }
  return [ids, weights];
}

function sigmoidGroup(row: number[], bias: number[], k: number, r: Extract<RoutingRule, { kind: 'sigmoid-group-topk' }>): [number[], number[]] {
  const scores = row.map(sigmoid);
  const choice = scores.map((s, i) => s + bias[i]!);
  const per = row.length / r.numGroups;
  const groupScores = Array.from({ length: r.numGroups }, (_, g) => {
    const top = choice.slice(g * per, (g + 1) * per).sort((a, b) => b - a);
    return top[0]! + top[1]!;
  });
  const keptGroups = new Set<number>();
  for (let i = 0; i < r.topkGroups; i++) keptGroups.add(argmaxExcept(groupScores, keptGroups));
  const masked = choice.map((c, i) => (keptGroups.has(Math.floor(i / per)) ? c : 0));
  const ids: number[] = [];
  for (let i = 0; i < k; i++) ids.push(argmaxExcept(masked, new Set(ids)));
  const chosen = ids.map((i) => scores[i]!);
  const sum = chosen.reduce((a, b) => a + b, 0);
  return [ids, chosen.map((s) => (r.normalize ? s / (sum + 1e-20) : s) * r.scaling)];
}

export function routingReference(logits: Float32Array, rule: RoutingRule, numExperts: number, topK: number, bias: Float32Array | null): RoutingChoice {
  const T = logits.length / numExperts;
  if (rule.kind === 'softmax-topk' || rule.kind === 'topk-softmax') {
    const r = softmaxTopKReference(logits, { numTokens: T, numExperts, topK, renormalize: rule.kind === 'topk-softmax' || rule.normalize });
    return { expertIds: Array.from(r.expertIds), weights: Array.from(r.weights) };
  }
  const out: RoutingChoice = { expertIds: [], weights: [] };
  for (let t = 0; t < T; t++) {
    const row = Array.from(logits.subarray(t * numExperts, (t + 1) * numExperts));
    const [ids, w] = rule.kind === 'sparsemixer' ? sparsemixer(row, rule.jitterEps) : sigmoidGroup(row, Array.from(bias ?? new Float32Array(numExperts)), topK, rule);
    out.expertIds.push(...ids);
    out.weights.push(...w);
  }
  return out;
}
