import { describe, expect, it } from 'vitest';
import { ConfigError, MissingFileError, SafetensorsFormatError, TensorMismatchError, UnsupportedArchitectureError, UnsupportedDtypeError } from '../../src/checkpoint/errors.ts';
import { planMemory, MemoryPlanError } from '../../src/model/memoryPlan.ts';
import { openModel } from '../../src/model/openModel.ts';
import { SUPPORTED_ARCHITECTURES } from '../../src/model/spec.ts';
import { buildCheckpoint, SYNTHETIC, type SyntheticModel } from '../helpers/syntheticCheckpoints.ts';

const numel = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** Active parameters worked out from the tensor list: drop (E − k)/E of every routed-expert tensor. */
function expectedActive(model: SyntheticModel): number {
  const { numExperts: E, topK: k } = model.expect;
  let total = 0;
  for (const [name, shape] of model.tensors) {
    const routed = /\.experts\.(\d+\.|gate_up_proj|down_proj)|input_linear|output_linear/.test(name);
    total += routed ? (numel(shape) * k) / E : numel(shape);
  }
  return Math.round(total);
}

async function rejects(promise: Promise<unknown>): Promise<Error> {
  const error = await promise.then(() => null, (e: unknown) => e);
  expect(error).toBeInstanceOf(Error);
  return error as Error;
}

describe('model spec from Hugging Face checkpoints', () => {
  it('covers every supported architecture', () => {
    expect(Object.keys(SYNTHETIC).sort()).toEqual([...SUPPORTED_ARCHITECTURES].sort());
  });

  for (const [architecture, model] of Object.entries(SYNTHETIC)) {
    it(`${architecture}: spec, tensors and model card`, async () => {
      const { spec, card } = await openModel(buildCheckpoint(model));
      expect(spec.architecture).toBe(architecture);
      expect(spec.moeLayers).toEqual(model.expect.moeLayers);
      expect(card.numExperts).toBe(model.expect.numExperts);
      expect(card.topK).toBe(model.expect.topK);
      expect(card.totalParameters).toBe(model.tensors.reduce((n, [, s]) => n + numel(s), 0));
      expect(card.activeParameters).toBe(expectedActive(model));
      expect(card.dtype).toMatch(/BF16/);
    });

    it(`${architecture}: the same model from 3 shards and an index`, async () => {
      const one = await openModel(buildCheckpoint(model));
      const three = await openModel(buildCheckpoint(model, { shards: 3 }));
      expect(three.card.totalParameters).toBe(one.card.totalParameters);
      expect(three.card.files.map((f) => f.name)).toEqual([
        'model-00001-of-00003.safetensors', 'model-00002-of-00003.safetensors', 'model-00003-of-00003.safetensors',
      ]);
    });
  }

  it('reads each architecture’s routing rule and extras', async () => {
    const spec = async (a: string) => (await openModel(buildCheckpoint(SYNTHETIC[a]!))).spec;
    const moeOf = (s: Awaited<ReturnType<typeof spec>>) => s.layers.find((l) => l.mlp.kind === 'moe')!.mlp;
    expect(moeOf(await spec('MixtralForCausalLM'))).toMatchObject({ routing: { kind: 'topk-softmax' } });
    expect(moeOf(await spec('Qwen2MoeForCausalLM'))).toMatchObject({ routing: { kind: 'softmax-topk', normalize: false }, sharedExpert: { intermediateSize: 12, gated: true } });
    expect((await spec('Qwen2MoeForCausalLM')).layers[0]!.mlp).toEqual({ kind: 'dense', intermediateSize: 24 });
    expect(moeOf(await spec('Qwen3MoeForCausalLM'))).toMatchObject({ routing: { kind: 'softmax-topk', normalize: true } });
    expect((await spec('Qwen3MoeForCausalLM')).layers[0]!.attention).toMatchObject({ qkNorm: 'per-head' });
    expect((await spec('OlmoeForCausalLM')).layers[0]!.attention).toMatchObject({ qkNorm: 'full', clipQkv: 0.5 });
    const granite = await spec('GraniteMoeForCausalLM');
    expect(granite).toMatchObject({ embeddingMultiplier: 12, residualMultiplier: 0.22, logitsScaling: 6, tieWordEmbeddings: true });
    expect(granite.layers[0]!.attention).toMatchObject({ scale: 0.015625 });
    const phi = await spec('PhimoeForCausalLM');
    expect(phi.norm).toEqual({ kind: 'layer', eps: 1e-6, bias: true });
    expect(moeOf(phi)).toMatchObject({ routing: { kind: 'sparsemixer', jitterEps: 0.01 } });
    const ds = await spec('DeepseekV3ForCausalLM');
    expect(moeOf(ds)).toMatchObject({ routing: { kind: 'sigmoid-group-topk', numGroups: 2, topkGroups: 1, normalize: true, scaling: 2.5 }, sharedExpert: { intermediateSize: 8, gated: false }, routerCorrectionBias: true });
    // YaRN: softmax scale = (nope + rope)^-0.5 · (0.1 · mscale_all_dim · ln(factor) + 1)^2
    expect(ds.layers[0]!.attention.scale).toBeCloseTo((1 / Math.sqrt(8)) * (0.1 * Math.log(40) + 1) ** 2, 12);
    expect(ds.rope).toMatchObject({ type: 'yarn', theta: 10000, rotaryDim: 4 });
  });

  it('accepts the config spellings of different transformers versions', async () => {
    const base = SYNTHETIC['MixtralForCausalLM']!;
    const variants: Record<string, unknown>[] = [
      { ...base.config, rope_theta: undefined, rope_parameters: { rope_type: 'default', rope_theta: 5e5 } },
      { ...base.config, num_local_experts: undefined, num_experts: 4 },
      { ...base.config, torch_dtype: undefined, dtype: 'float16' },
      { ...base.config, head_dim: null },
    ];
    const specs = await Promise.all(variants.map((config) => openModel(buildCheckpoint({ ...base, config }))));
    expect(specs[0]!.spec.rope.theta).toBe(5e5);
    expect(specs[1]!.card.numExperts).toBe(4);
    expect(specs[2]!.spec.dtype).toBe('F16');
    expect(specs[3]!.spec.layers[0]!.attention).toMatchObject({ headDim: 4 });
    // tied embeddings without lm_head.weight: the embedding serves as the head
    const tied = { ...base, config: { ...base.config, tie_word_embeddings: true }, tensors: base.tensors.filter(([n]) => n !== 'lm_head.weight') };
    const opened = await openModel(buildCheckpoint(tied));
    expect(opened.weights.lmHead.name).toBe('model.embed_tokens.weight');
  });

  it('reads fused expert tensors in either orientation, deciding by shape', async () => {
    const base = SYNTHETIC['MixtralForCausalLM']!;
    const [E, I, H] = [4, 8, 16];
    for (const [gateUp, down, orientation] of [[[E, 2 * I, H], [E, H, I], 'out-in'], [[E, H, 2 * I], [E, I, H], 'in-out']] as const) {
      const tensors = base.tensors
        .filter(([n]) => !/experts\.\d+\./.test(n))
        .concat([0, 1].flatMap((l) => [[`model.layers.${l}.mlp.experts.gate_up_proj`, [...gateUp]], [`model.layers.${l}.mlp.experts.down_proj`, [...down]]] as [string, number[]][]));
      const { weights, card } = await openModel(buildCheckpoint({ ...base, tensors }));
      const mlp = weights.layers[1]!.mlp;
      expect(mlp.kind === 'moe' && mlp.experts.layout === 'fused' && mlp.experts.gateUpOrientation).toBe(orientation);
      expect(mlp.kind === 'moe' && mlp.experts.layout === 'fused' && mlp.experts.downOrientation).toBe(orientation);
      expect(card.activeParameters).toBe(expectedActive({ ...base, tensors }));
    }
  });
});

describe('bad checkpoints get typed errors that say what is wrong', () => {
  const mixtral = SYNTHETIC['MixtralForCausalLM']!;

  it('missing or misshapen tensors are all listed', async () => {
    const e = await rejects(openModel(buildCheckpoint(mixtral, { dropTensor: 'model.layers.1.block_sparse_moe.experts.3.w2.weight', reshape: ['model.norm.weight', [15]] })));
    expect(e).toBeInstanceOf(TensorMismatchError);
    expect(e.message).toMatch(/missing model\.layers\.1\.block_sparse_moe\.experts\.3\.w2\.weight: expected shape \[16, 8\]/);
    expect(e.message).toMatch(/model\.norm\.weight: shape \[15\], expected \[16\]/);
  });

  it('a dtype MoEScope cannot compute with', async () => {
    const e = await rejects(openModel(buildCheckpoint(mixtral, { dtype: 'F8_E4M3' })));
    expect(e).toBeInstanceOf(UnsupportedDtypeError);
    expect(e.message).toMatch(/^tensor model\.embed_tokens\.weight has dtype F8_E4M3; MoEScope supports BF16, F16, F32$/);
  });

  it('an unsupported architecture names itself and the supported ones', async () => {
    const e = await rejects(openModel(buildCheckpoint({ ...mixtral, config: { ...mixtral.config, architectures: ['DbrxForCausalLM'] } })));
    expect(e).toBeInstanceOf(UnsupportedArchitectureError);
    expect(e.message).toBe(`architecture DbrxForCausalLM is not supported; MoEScope supports ${SUPPORTED_ARCHITECTURES.join(', ')}`);
  });

  it('missing files, bad JSON, missing keys, missing shards, corrupt weights', async () => {
    const files = buildCheckpoint(mixtral);
    expect(await rejects(openModel(files.filter((f) => f.name !== 'config.json')))).toBeInstanceOf(MissingFileError);
    expect((await rejects(openModel(files.filter((f) => f.name === 'config.json')))).message).toMatch(/model\.safetensors is missing/);
    const badJson = buildCheckpoint({ ...mixtral, config: {} }).map((f) => (f.name === 'config.json' ? { ...f, size: 1, read: async () => new TextEncoder().encode('{') } : f));
    const jsonError = await rejects(openModel(badJson));
    expect(jsonError).toBeInstanceOf(ConfigError);
    expect(jsonError.message).toMatch(/^config\.json: not valid JSON/);
    const noHidden = await rejects(openModel(buildCheckpoint({ ...mixtral, config: { ...mixtral.config, hidden_size: undefined } })));
    expect(noHidden.message).toBe('config.json: needs "hidden_size" (an integer)');
    const sharded = buildCheckpoint(mixtral, { shards: 2 });
    const missingShard = await rejects(openModel(sharded.filter((f) => f.name !== 'model-00002-of-00002.safetensors')));
    expect(missingShard).toBeInstanceOf(MissingFileError);
    expect(missingShard.message).toMatch(/^model-00002-of-00002\.safetensors is missing/);
    const truncated = files.map((f) => (f.name === 'model.safetensors' ? { ...f, size: f.size - 1 } : f));
    const corrupt = await rejects(openModel(truncated));
    expect(corrupt).toBeInstanceOf(SafetensorsFormatError);
    expect(corrupt.message).toMatch(/^model\.safetensors: not a valid safetensors file: tensors end at byte/);
  });

  it('ignores files that are not part of a checkpoint', async () => {
    const { checkpoint } = await openModel(buildCheckpoint(mixtral, { extraFiles: { 'README.md': '# hi', '.gitattributes': '' } }));
    expect(checkpoint.ignored.sort()).toEqual(['.gitattributes', 'README.md']);
  });
});

describe('memory plan', () => {
  it('adds weights, f32 KV cache and activations; splits tensors larger than one binding', async () => {
    const { spec, weights, card } = await openModel(buildCheckpoint(SYNTHETIC['MixtralForCausalLM']!));
    const plan = planMemory(spec, weights, { maxBufferSize: 2 ** 30, maxStorageBufferBindingSize: 1000 }, { contextLength: 64, prefillTokens: 16 });
    expect(plan.weightBytes).toBe(card.totalParameters * 2);
    expect(plan.kvCacheBytes).toBe(2 /* layers */ * 2 /* k,v */ * 2 * 4 /* kv heads × d */ * 64 * 4);
    expect(plan.splitTensors).toEqual([
      { name: 'model.embed_tokens.weight', bytes: 1024, pieces: 2 },
      { name: 'lm_head.weight', bytes: 1024, pieces: 2 },
    ]);
    const e = (() => { try { planMemory(spec, weights, { maxBufferSize: 2 ** 30, maxStorageBufferBindingSize: 2 ** 30 }, { contextLength: 64, deviceMemoryBytes: 1000 }); return null; } catch (x) { return x as Error; } })();
    expect(e).toBeInstanceOf(MemoryPlanError);
    expect(e?.message).toMatch(/^the model needs 0\.00 GiB of GPU memory \(weights .*\) but only 0\.00 GiB is available$/);
  });
});
