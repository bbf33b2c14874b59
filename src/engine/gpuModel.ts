// GPU weights: every tensor the spec needs, streamed to the GPU in its stored precision. Per-expert
// tensors are packed into one expert bank per layer ([E, 2I, H] gate|up and [E, H, I] down), so the
// expert kernels index experts by id; fused checkpoint tensors are used as they are.

import type { TensorEntry } from '../checkpoint/checkpoint.ts';
import { CheckpointError } from '../checkpoint/errors.ts';
import type { ComputeDtype } from '../checkpoint/dtypes.ts';
import type { GpuContext } from '../gpu/context.ts';
import { Uploader, type UploadOptions } from '../gpu/tensorUpload.ts';
import type { ExpertBank } from '../kernels/experts.ts';
import type { WeightRef } from '../kernels/weightRef.ts';
import type { OpenedModel } from '../model/openModel.ts';
import type { LayerSpec } from '../model/spec.ts';
import { weightTensors, type Linear, type MoeWeights, type Norm, type SwiGluWeights } from '../model/weights.ts';

/** The checkpoint is valid but uses something the engine does not run yet. */
export class EngineUnsupportedError extends CheckpointError {
  override name = 'EngineUnsupportedError';
}

export interface GpuLinear {
  weight: WeightRef; // [out, in]
  bias: WeightRef | null;
}

export interface GpuNorm {
  weight: WeightRef;
  bias: WeightRef | null;
}

export interface GpuMla {
  kind: 'mla';
  q: GpuLinear | null; // [heads·(nope+rope), H] without a q LoRA
  qA: GpuLinear | null; // [qLoraRank, H]
  qANorm: WeightRef | null;
  qB: GpuLinear | null; // [heads·(nope+rope), qLoraRank]
  kvA: GpuLinear; // [kvLoraRank + rope, H]
  kvANorm: WeightRef; // [kvLoraRank]
  kvB: GpuLinear; // [heads·(nope+v), kvLoraRank]
  o: GpuLinear; // [H, heads·v]
}

/**
 * q, k and v: stacked in one weight [heads·d + 2·kvHeads·d, H] (and one bias) so that one dispatch
 * computes all three, where they share a dtype and fit one binding; else three.
 */
export type GpuQkv = { kind: 'stacked'; qkv: GpuLinear } | { kind: 'separate'; q: GpuLinear; k: GpuLinear; v: GpuLinear };

export interface GpuAttention {
  kind: 'gqa';
  qkv: GpuQkv;
  o: GpuLinear;
  /** q_norm's weight, then k_norm's from element kOffset: one buffer, so decode attention can take both. */
  qkNorm: { weight: WeightRef; kOffset: number } | null;
}

export type GpuMlp =
  | { kind: 'dense'; bank: ExpertBank }
  | {
      kind: 'moe';
      /** [E, H]; with gateInRouter [E + 1, H], row E being the shared expert's gate (one dispatch for both). */
      router: WeightRef;
      gateInRouter: boolean;
      correctionBias: WeightRef | null;
      experts: ExpertBank;
      shared: ExpertBank | null;
      /** The shared expert's gate [1, H] when it is not stacked into the router. */
      sharedGate: WeightRef | null;
    };

export interface GpuLayer {
  spec: LayerSpec;
  inputNorm: GpuNorm;
  postAttentionNorm: GpuNorm;
  attention: GpuAttention | GpuMla;
  mlp: GpuMlp;
}

export interface GpuModel {
  embed: WeightRef; // [V, H]
  layers: GpuLayer[];
  finalNorm: GpuNorm;
  lmHead: WeightRef; // [V, H]
  lmHeadBias: WeightRef | null;
  /** Bytes of weights on the GPU. */
  weightBytes: number;
  destroy(): void;
}

/** Which spec features the engine runs today; the rest fail before any upload, with this message. */
export function checkEngineSupport(model: OpenedModel): void {
  for (const layer of model.spec.layers) {
    const a = layer.attention;
    if (a.kind === 'mla' && a.ropeInterleave && a.qkRopeHeadDim > 128) {
      throw new EngineUnsupportedError(`interleaved RoPE over ${a.qkRopeHeadDim} dims: the engine supports up to 128`);
    }
    if (a.kind === 'mla' && a.vHeadDim > 256) throw new EngineUnsupportedError(`value heads of ${a.vHeadDim}: the engine supports up to 256`);
    if (a.kind === 'gqa' && a.headDim > 256) throw new EngineUnsupportedError(`heads of ${a.headDim}: the engine supports up to 256`);
    const m = layer.mlp;
    if (m.kind === 'moe' && m.topK > 8) throw new EngineUnsupportedError(`top-${m.topK} routing: the engine supports k ≤ 8`);
    if (m.kind === 'moe' && m.routing.kind !== 'softmax-topk' && m.numExperts > 256) {
      throw new EngineUnsupportedError(`${m.routing.kind} routing over ${m.numExperts} experts: the engine supports up to 256`);
    }
  }
}

export async function uploadModel(ctx: GpuContext, model: OpenedModel, options: UploadOptions = {}): Promise<GpuModel> {
  checkEngineSupport(model);
  const { spec, weights } = model;
  const uploader = new Uploader(ctx, weightTensors(weights), options);
  const ref = (buffer: GPUBuffer, t: TensorEntry): WeightRef => ({ buffer, dtype: t.dtype as ComputeDtype });

  const single = async (t: TensorEntry): Promise<WeightRef> => {
    const g = await uploader.tensor(t);
    const piece = g.pieces[0];
    if (g.pieces.length !== 1 || !piece) {
      throw new EngineUnsupportedError(`${t.name} (${t.byteLength} bytes) is larger than one storage binding on this GPU`);
    }
    return ref(piece.buffer, t);
  };
  const linear = async (l: Linear): Promise<GpuLinear> => ({ weight: await single(l.weight), bias: l.bias ? await single(l.bias) : null });
  /** Whether tensors can share one buffer (uploader.packed): one dtype, whole 4-byte words, one binding. */
  const stackable = (tensors: TensorEntry[]) =>
    tensors.every((t) => t.dtype === tensors[0]!.dtype) &&
    tensors.every((t) => t.byteLength % 4 === 0) && // each part starts on a 4-byte boundary
    tensors.reduce((bytes, t) => bytes + t.byteLength, 0) <= ctx.device.limits.maxStorageBufferBindingSize;
  const qkvOf = async (q: Linear, k: Linear, v: Linear, label: string): Promise<GpuQkv> => {
    const parts = [q, k, v];
    const biases = parts.map((l) => l.bias);
    const weights = parts.map((l) => l.weight);
    const withBias = biases.every((b) => b !== null);
    if (stackable(weights) && (withBias ? stackable(biases as TensorEntry[]) : biases.every((b) => b === null))) {
      const weight = ref(await uploader.packed(weights, `${label}.qkv [q+k+v, H]`), q.weight);
      const bias = withBias ? ref(await uploader.packed(biases as TensorEntry[], `${label}.qkv bias`), q.bias!) : null;
      return { kind: 'stacked', qkv: { weight, bias } };
    }
    return { kind: 'separate', q: await linear(q), k: await linear(k), v: await linear(v) };
  };
  const qkNormOf = async (q: TensorEntry, k: TensorEntry, label: string) => {
    if (!stackable([q, k])) {
      throw new EngineUnsupportedError(`${q.name} (${q.dtype}, ${q.byteLength} bytes) and ${k.name} (${k.dtype}, ${k.byteLength} bytes): the q and k norm weights must share a dtype and fill whole 4-byte words`);
    }
    return { weight: ref(await uploader.packed([q, k], `${label}.q_norm+k_norm`), q), kOffset: q.shape[0]! };
  };
  const norm = async (n: Norm): Promise<GpuNorm> => ({ weight: await single(n.weight), bias: n.bias ? await single(n.bias) : null });
  const bank = async (experts: SwiGluWeights[], label: string): Promise<ExpertBank> => {
    const first = experts[0]!;
    return {
      gateUp: ref(await uploader.packed(experts.flatMap((e) => [e.gate, e.up]), `${label}.gate_up [E,2I,H]`), first.gate),
      down: ref(await uploader.packed(experts.map((e) => e.down), `${label}.down [E,H,I]`), first.down),
      gateUpTransposed: false,
      downTransposed: false,
      numExperts: experts.length,
      width: first.gate.shape[0]!,
    };
  };
  const routedBank = async (m: MoeWeights, label: string, width: number): Promise<ExpertBank> => {
    const x = m.experts;
    if (x.layout === 'per-expert') return bank(x.experts, label);
    return {
      gateUp: await single(x.gateUp),
      down: await single(x.down),
      gateUpTransposed: x.gateUpOrientation === 'in-out',
      downTransposed: x.downOrientation === 'in-out',
      numExperts: x.gateUp.shape[0]!,
      width,
    };
  };

  try {
    const embed = await single(weights.embed);
    const layers: GpuLayer[] = [];
    for (const [i, w] of weights.layers.entries()) {
      const layerSpec = spec.layers[i]!;
      const label = `layer ${i}`;
      const a = w.attention;
      const attention: GpuAttention | GpuMla =
        a.kind === 'gqa'
          ? {
              kind: 'gqa',
              qkv: await qkvOf(a.q, a.k, a.v, `${label}.attention`),
              o: await linear(a.o),
              qkNorm: a.qNorm && a.kNorm ? await qkNormOf(a.qNorm, a.kNorm, `${label}.attention`) : null,
            }
          : {
              kind: 'mla',
              q: a.q ? await linear(a.q) : null,
              qA: a.qA ? await linear(a.qA) : null,
              qANorm: a.qANorm ? await single(a.qANorm) : null,
              qB: a.qB ? await linear(a.qB) : null,
              kvA: await linear(a.kvA),
              kvANorm: await single(a.kvANorm),
              kvB: await linear(a.kvB),
              o: await linear(a.o),
            };
      const inputNorm = await norm(w.inputNorm);
      const postAttentionNorm = await norm(w.postAttentionNorm);
      let mlp: GpuMlp;
      if (w.mlp.kind === 'dense') {
        mlp = { kind: 'dense', bank: await bank([w.mlp], `${label} mlp`) };
      } else {
        const m = layerSpec.mlp.kind === 'moe' ? layerSpec.mlp : null;
        const { router, sharedGate } = w.mlp;
        const gateInRouter = sharedGate !== null && stackable([router, sharedGate]);
        mlp = {
          kind: 'moe',
          router: gateInRouter ? ref(await uploader.packed([router, sharedGate], `${label} router+shared gate [E+1,H]`), router) : await single(router),
          gateInRouter,
          correctionBias: w.mlp.correctionBias ? await single(w.mlp.correctionBias) : null,
          experts: await routedBank(w.mlp, `${label} experts`, m?.expertIntermediateSize ?? 0),
          shared: w.mlp.shared ? await bank([w.mlp.shared], `${label} shared expert`) : null,
          sharedGate: sharedGate && !gateInRouter ? await single(sharedGate) : null,
        };
      }
      layers.push({ spec: layerSpec, inputNorm, postAttentionNorm, attention, mlp });
    }
    const finalNorm = await norm(weights.finalNorm);
    const lmHead = weights.lmHead === weights.embed ? embed : await single(weights.lmHead);
    const lmHeadBias = weights.lmHeadBias ? await single(weights.lmHeadBias) : null;
    await uploader.finish();
    return {
      embed,
      layers,
      finalNorm,
      lmHead,
      lmHeadBias,
      weightBytes: weightTensors(weights).reduce((n, t) => n + t.byteLength, 0),
      destroy: () => uploader.destroy(),
    };
  } catch (error) {
    uploader.destroy();
    throw error;
  }
}
