// The whole engine against the plain-TS reference model on random-weight checkpoints of each
// architecture it runs: logits at every prompt position, router logits of every MoE layer, expert
// choices, and a greedy continuation decoded through the KV cache (the reference recomputes from scratch).
import { describe, expect, it } from 'vitest';
import { EngineUnsupportedError } from '../../src/engine/gpuModel.ts';
import { MoeEngine } from '../../src/engine/engine.ts';
import { openModel } from '../../src/model/openModel.ts';
import { referenceForward, referenceGreedy } from '../../src/reference/model.ts';
import { routingReference } from '../../src/reference/routing.ts';
import { testGpu } from '../helpers/gpu.ts';
import { relativeError } from '../helpers/gpuData.ts';
import { buildCheckpoint, SYNTHETIC, type BuildOptions, type SyntheticModel } from '../helpers/syntheticCheckpoints.ts';

const RUNS = ['MixtralForCausalLM', 'Qwen2MoeForCausalLM', 'Qwen3MoeForCausalLM', 'OlmoeForCausalLM', 'GraniteMoeForCausalLM', 'PhimoeForCausalLM'];
const PROMPT = [3, 17, 5, 29, 11, 2, 8];
const NEW_TOKENS = 6;
const TOL = 1e-4; // f32 GPU vs f64 reference, relative to the largest magnitude

async function checkParity(model: SyntheticModel, options: BuildOptions, label: string) {
  const gpu = await testGpu();
  const opened = await openModel(buildCheckpoint(model, { randomSeed: 7, ...options }));
  const engine = await MoeEngine.load(gpu, opened, { maxPositions: 64 });
  try {
    const result = await engine.generate({ promptIds: PROMPT, maxNewTokens: NEW_TOKENS, allLogits: true, eosTokenIds: [] });
    const ref = await referenceForward(opened.spec, opened.weights, PROMPT);
    expect(relativeError(result.logits!.flat(), ref.logits), `${label} logits`).toBeLessThan(TOL);
    expect(result.layers.map((l) => l.layer), label).toEqual(opened.spec.moeLayers);
    for (const layer of result.layers) {
      const want = ref.routerLogits.get(layer.layer)!;
      const got = layer.routerLogits.slice(0, PROMPT.length).flat();
      expect(relativeError(got, want), `${label} router logits, layer ${layer.layer}`).toBeLessThan(TOL);
      const m = opened.spec.layers[layer.layer]!.mlp;
      if (m.kind !== 'moe') throw new Error('not MoE');
      const chosen = routingReference(want, m.routing, m.numExperts, m.topK, null);
      expect(layer.experts.slice(0, PROMPT.length).flat(), `${label} experts, layer ${layer.layer}`).toEqual(chosen.expertIds);
      expect(relativeError(layer.weights.slice(0, PROMPT.length).flat(), chosen.weights), `${label} weights`).toBeLessThan(TOL);
      // one routing row per processed token: the prompt, then every generated token fed back
      expect(layer.experts.length).toBe(PROMPT.length + NEW_TOKENS - 1);
    }
    expect(result.tokens.slice(PROMPT.length), `${label} greedy`).toEqual(await referenceGreedy(opened.spec, opened.weights, PROMPT, NEW_TOKENS));
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

  it('refuses, before uploading, what it cannot run yet', async () => {
    const gpu = await testGpu();
    for (const [arch, what] of [['DeepseekV3ForCausalLM', /MLA attention is not in the engine yet/]] as const) {
      const opened = await openModel(buildCheckpoint(SYNTHETIC[arch]!));
      const error = await MoeEngine.load(gpu, opened).then(() => null, (e: unknown) => e);
      expect(error).toBeInstanceOf(EngineUnsupportedError);
      expect(String(error)).toMatch(what);
    }
  });
});
