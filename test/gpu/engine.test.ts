// The whole engine against the plain-TS reference model on random-weight checkpoints of each
// architecture it runs: logits at every prompt position, router logits of every MoE layer, expert
// choices, and a greedy continuation decoded through the KV cache (the reference recomputes from scratch).
import { describe, expect, it } from 'vitest';
import type { TensorEntry } from '../../src/checkpoint/checkpoint.ts';
import type { ComputeDtype } from '../../src/checkpoint/dtypes.ts';
import { readTensorBytes } from '../../src/checkpoint/safetensors.ts';
import { decodeWeights } from '../../src/checkpoint/dtypeCodec.ts';
import { EngineUnsupportedError } from '../../src/engine/gpuModel.ts';
import { BROWSER_STEPS_IN_FLIGHT, MoeEngine } from '../../src/engine/engine.ts';
import { openModel } from '../../src/model/openModel.ts';
import { referenceForward, referenceGreedy } from '../../src/reference/model.ts';
import { routingReference } from '../../src/reference/routing.ts';
import { testGpu } from '../helpers/gpu.ts';
import { relativeError } from '../helpers/gpuData.ts';
import { seededRandom } from '../helpers/random.ts';
import { attentionSplits, tiledSplit } from '../../src/kernels/layers.ts';
import { buildCheckpoint, mixtralModel, SYNTHETIC, TINY, type BuildOptions, type SyntheticModel } from '../helpers/syntheticCheckpoints.ts';

async function correctionBias(t: TensorEntry): Promise<Float32Array> {
  return decodeWeights(await readTensorBytes(t.file, t), t.dtype as ComputeDtype);
}

const RUNS = ['MixtralForCausalLM', 'Qwen2MoeForCausalLM', 'Qwen3MoeForCausalLM', 'OlmoeForCausalLM', 'GraniteMoeForCausalLM', 'PhimoeForCausalLM', 'DeepseekV3ForCausalLM'];
const PROMPT = [3, 17, 5, 29, 11, 2, 8];
const NEW_TOKENS = 6;
const TOL = 1e-4; // f32 GPU vs f64 reference, relative to the largest magnitude

async function checkParity(model: SyntheticModel, options: BuildOptions, label: string, prompt: readonly number[] = PROMPT) {
  const gpu = await testGpu();
  const opened = await openModel(buildCheckpoint(model, { randomSeed: 7, ...options }));
  const engine = await MoeEngine.load(gpu, opened, { maxPositions: 64 });
  try {
    const result = await engine.generate({ promptIds: [...prompt], maxNewTokens: NEW_TOKENS, allLogits: true, eosTokenIds: [] });
    const ref = await referenceForward(opened.spec, opened.weights, [...prompt]);
    expect(relativeError(result.logits!.flat(), ref.logits), `${label} logits`).toBeLessThan(TOL);
    expect(result.layers.map((l) => l.layer), label).toEqual(opened.spec.moeLayers);
    for (const layer of result.layers) {
      const want = ref.routerLogits.get(layer.layer)!;
      const got = layer.routerLogits.slice(0, prompt.length).flat();
      expect(relativeError(got, want), `${label} router logits, layer ${layer.layer}`).toBeLessThan(TOL);
      const m = opened.spec.layers[layer.layer]!.mlp;
      if (m.kind !== 'moe') throw new Error('not MoE');
      const bias = opened.weights.layers[layer.layer]!.mlp;
      const correction = bias.kind === 'moe' && bias.correctionBias ? await correctionBias(bias.correctionBias) : null;
      const chosen = routingReference(want, m.routing, m.numExperts, m.topK, correction);
      expect(layer.experts.slice(0, prompt.length).flat(), `${label} experts, layer ${layer.layer}`).toEqual(chosen.expertIds);
      expect(relativeError(layer.weights.slice(0, prompt.length).flat(), chosen.weights), `${label} weights`).toBeLessThan(TOL);
      // one routing row per processed token: the prompt, then every generated token fed back
      expect(layer.experts.length).toBe(prompt.length + NEW_TOKENS - 1);
    }
    expect(result.tokens.slice(prompt.length), `${label} greedy`).toEqual(await referenceGreedy(opened.spec, opened.weights, [...prompt], NEW_TOKENS));
  } finally {
    engine.destroy();
  }
}

describe('engine vs the plain-TS reference model', () => {
  for (const architecture of RUNS) {
    it(`${architecture}: logits, routing and greedy decode`, async () => {
      await checkParity(SYNTHETIC[architecture]!, {}, architecture);
    });
  }

  it('F16 and F32 checkpoints, and fused experts stored transposed', async () => {
    const mixtral = SYNTHETIC['MixtralForCausalLM']!;
    await checkParity(mixtral, { dtype: 'F16' }, 'mixtral f16');
    await checkParity(SYNTHETIC['OlmoeForCausalLM']!, { dtype: 'F32' }, 'olmoe f32');
    const [E, I, H] = [4, 8, 16];
    const fused: SyntheticModel = {
      ...mixtral,
      tensors: mixtral.tensors
        .filter(([n]) => !/experts\.\d+\./.test(n))
        .concat([0, 1].flatMap((l) => [[`model.layers.${l}.mlp.experts.gate_up_proj`, [E, H, 2 * I]], [`model.layers.${l}.mlp.experts.down_proj`, [E, I, H]]] as [string, number[]][])),
    };
    await checkParity(fused, {}, 'mixtral fused transposed');
  });

  it('DeepSeek-V3 without a q LoRA and with plain (not interleaved) RoPE', async () => {
    const ds = SYNTHETIC['DeepseekV3ForCausalLM']!;
    const config = { ...ds.config, q_lora_rank: null, rope_interleave: false, rope_parameters: { rope_type: 'default', rope_theta: 10000 } };
    const tensors = ds.tensors
      .filter(([n]) => !/q_a_proj|q_a_layernorm|q_b_proj/.test(n))
      .concat([0, 1].map((l) => [`model.layers.${l}.self_attn.q_proj.weight`, [4 * 8, 16]] as [string, number[]]));
    await checkParity({ ...ds, config, tensors }, {}, 'deepseek plain q');
  });

  it('a prefill wide enough for the tiled paths: multiplies split over their inputs, tiled attention over query blocks, grouped experts', async () => {
    // Mixtral's layout at hidden 512 (4 heads of 128, 2 kv heads) over a 40-token prompt: q/k/v (1,024
    // outputs) and o_proj run as split multiplies, attention_tiled takes three blocks of queries
    const [H, NH, KV, D, V] = [512, 4, 2, 128, 32];
    const wide = mixtralModel({ ...TINY, H, NH, KV, D, I: 64, V });
    const prompt = Array.from({ length: 40 }, (_, i) => (i * 7 + 3) % V);
    expect([tiledSplit(prompt.length, H, NH * D + 2 * KV * D).splits, tiledSplit(prompt.length, NH * D, H).splits]).toEqual([2, 2]);
    await checkParity(wide, {}, 'mixtral wide', prompt);
  });

  it('refuses, before uploading, what it cannot run yet', async () => {
    const gpu = await testGpu();
    const ds = SYNTHETIC['DeepseekV3ForCausalLM']!;
    const wide = { ...ds, config: { ...ds.config, qk_rope_head_dim: 130 } };
    const tensors = wide.tensors.map(([n, s]) => [n, n.includes('q_b_proj') ? [4 * 134, 12] : n.includes('kv_a_proj_with_mqa') ? [8 + 130, 16] : s] as [string, number[]]);
    const opened = await openModel(buildCheckpoint({ ...wide, tensors }));
    const error = await MoeEngine.load(gpu, opened).then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(EngineUnsupportedError);
    expect(String(error)).toMatch(/interleaved RoPE over 130 dims/);
  });

  it('decode over a context long enough that attention splits across workgroups (and the split count changes mid-run)', async () => {
    const gpu = await testGpu();
    const olmoe = SYNTHETIC['OlmoeForCausalLM']!;
    const opened = await openModel(buildCheckpoint({ ...olmoe, config: { ...olmoe.config, max_position_embeddings: 512 } }, { randomSeed: 11 }));
    const heads = opened.spec.layers[0]!.attention.numHeads;
    // the prompt ends two blocks of 64 before the first split; decoding crosses it (attentionSplits)
    const promptLength = 440;
    const newTokens = 20;
    expect([attentionSplits(promptLength, heads), attentionSplits(promptLength + newTokens, heads)]).toEqual([1, 4]);
    const rand = seededRandom(3);
    const prompt = Array.from({ length: promptLength }, () => Math.floor(rand() * opened.spec.vocabSize));
    const engine = await MoeEngine.load(gpu, opened, { maxPositions: 512 });
    try {
      const result = await engine.generate({ promptIds: prompt, maxNewTokens: newTokens, stepLogits: true, eosTokenIds: [] });
      expect(result.replayedSteps).toBeGreaterThan(0);
      // the reference over the whole sequence: its logits at the position each step predicted from
      const V = opened.spec.vocabSize;
      const ref = await referenceForward(opened.spec, opened.weights, result.tokens.slice(0, -1));
      result.stepLogits!.forEach((row, i) => {
        const p = promptLength - 1 + i;
        expect(relativeError(row, ref.logits.subarray(p * V, (p + 1) * V)), `logits at position ${p}`).toBeLessThan(TOL);
      });
    } finally {
      engine.destroy();
    }
  });

  it('one, two, three or the browser\'s four decode steps in flight: the reference greedy continuation, its logits and routing; EOS drops the steps ahead', async () => {
    const gpu = await testGpu();
    const opened = await openModel(buildCheckpoint(SYNTHETIC['OlmoeForCausalLM']!, { randomSeed: 5 }));
    const V = opened.spec.vocabSize;
    const newTokens = 12;
    const engine = await MoeEngine.load(gpu, opened, { maxPositions: 64 });
    try {
      const runs = [];
      for (const stepsInFlight of [1, 2, 3, BROWSER_STEPS_IN_FLIGHT]) {
        const result = await engine.generate({ promptIds: PROMPT, maxNewTokens: newTokens, stepLogits: true, eosTokenIds: [], stepsInFlight });
        expect(result.tokens.length, `${stepsInFlight} in flight`).toBe(PROMPT.length + newTokens);
        runs.push(result);
      }
      // the reference over the whole sequence: each step's logits, and every processed token's routing
      const tokens = runs[0]!.tokens;
      const ref = await referenceForward(opened.spec, opened.weights, tokens.slice(0, -1));
      for (const [i, result] of runs.entries()) {
        expect(result.tokens, `${i + 1} in flight`).toEqual(tokens);
        result.stepLogits!.forEach((row, j) => {
          const p = PROMPT.length - 1 + j;
          expect(relativeError(row, ref.logits.subarray(p * V, (p + 1) * V)), `${i + 1} in flight, logits at ${p}`).toBeLessThan(TOL);
        });
        expect(result.layers.map((l) => l.layer)).toEqual(opened.spec.moeLayers);
        for (const layer of result.layers) {
          expect(layer.experts.length, `${i + 1} in flight, layer ${layer.layer} rows`).toBe(tokens.length - 1);
          expect(relativeError(layer.routerLogits.flat(), ref.routerLogits.get(layer.layer)!), `${i + 1} in flight, router logits of layer ${layer.layer}`).toBeLessThan(TOL);
        }
      }
      // an end-of-sequence token mid-run: three or four in flight stop there, the steps already submitted dropped
      const eos = tokens[PROMPT.length + 4]!;
      const at = tokens.indexOf(eos, PROMPT.length);
      for (const stepsInFlight of [3, BROWSER_STEPS_IN_FLIGHT]) {
        const stopped = await engine.generate({ promptIds: PROMPT, maxNewTokens: newTokens, eosTokenIds: [eos], stepsInFlight });
        expect(stopped.stoppedBy).toBe('eos');
        expect(stopped.tokens).toEqual(tokens.slice(0, at + 1));
        expect(stopped.layers[0]!.experts.length).toBe(at);
      }
    } finally {
      engine.destroy();
    }
  });

  it('one engine runs prompt after prompt (recorded steps reused, decode steps replayed across prompts), and calls made at once run in turn', async () => {
    const gpu = await testGpu();
    const opened = await openModel(buildCheckpoint(SYNTHETIC['MixtralForCausalLM']!, { randomSeed: 7 }));
    const fresh = async (promptIds: number[]) => {
      const e = await MoeEngine.load(gpu, opened, { maxPositions: 64 });
      try {
        return await e.generate({ promptIds, maxNewTokens: REUSE_TOKENS, eosTokenIds: [] });
      } finally {
        e.destroy();
      }
    };
    // enough tokens that decode steps replay (Recorder.replay: learned after three recordings per slot);
    // the second prompt is shorter, so its steps replay at positions the recordings never saw
    const REUSE_TOKENS = 14;
    const [long, short] = [PROMPT, PROMPT.slice(0, 3)];
    const want = [await fresh(long), await fresh(short)];
    const engine = await MoeEngine.load(gpu, opened, { maxPositions: 64 });
    try {
      const sequential = [
        await engine.generate({ promptIds: long, maxNewTokens: REUSE_TOKENS, eosTokenIds: [] }),
        await engine.generate({ promptIds: short, maxNewTokens: REUSE_TOKENS, eosTokenIds: [] }),
      ];
      const together = await Promise.all([long, short, long].map((promptIds) => engine.generate({ promptIds, maxNewTokens: REUSE_TOKENS, eosTokenIds: [] })));
      for (const [got, expected] of [[sequential[0]!, want[0]!], [sequential[1]!, want[1]!], [together[0]!, want[0]!], [together[1]!, want[1]!], [together[2]!, want[0]!]] as const) {
        expect(got.tokens).toEqual(expected.tokens);
        expect(got.layers).toEqual(expected.layers);
      }
      expect(want[0]!.replayedSteps).toBeGreaterThan(0);
      expect(sequential[1]!.replayedSteps).toBe(REUSE_TOKENS - 2); // every step after the first two
    } finally {
      engine.destroy();
    }
  });
});
