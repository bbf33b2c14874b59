// The engine: upload a model, then prefill a prompt and decode token by token with a KV cache, capturing
// every MoE layer's routing for every processed token. One command-buffer submission and one readback per
// step; the next token's id goes from argmax to the embedding on the GPU. Runtime-agnostic: give it any GpuContext.

import { uploadStorage } from '../gpu/buffers.ts';
import type { GpuContext } from '../gpu/context.ts';
import type { Profiler } from '../gpu/recorder.ts';
import type { UploadOptions } from '../gpu/tensorUpload.ts';
import { argmax, sample, type SamplingSettings } from '../kernels/layers.ts';
import { seededRandom } from '../util/random.ts';
import type { OpenedModel } from '../model/openModel.ts';
import { ForwardPass } from './forward.ts';
import { uploadModel, type GpuModel } from './gpuModel.ts';

export interface LayerTrace {
  layer: number;
  routerLogits: number[][]; // one row of E per processed token
  experts: number[][]; // one row of k, rank order
  weights: number[][];
}

export interface GenerationResult {
  /** The prompt, then every generated token. */
  tokens: number[];
  promptLength: number;
  layers: LayerTrace[];
  /** With allLogits: one row per prompt position. */
  logits?: number[][];
  stoppedBy: 'eos' | 'limit' | 'cancelled';
  prefillMs: number;
  decodeMs: number;
}

export interface GenerateOptions {
  promptIds: readonly number[];
  maxNewTokens: number;
  eosTokenIds?: readonly number[];
  /** Sample with these settings and seed; greedy (argmax) when absent. */
  sampling?: SamplingSettings & { seed: number };
  /** Keep the logits of every prompt position (the trace's --logits). */
  allLogits?: boolean;
  signal?: AbortSignal;
  /** Called after each generated token with everything so far (the UI updates live from it). */
  onStep?: (partial: GenerationResult) => void;
  /** Time every kernel with timestamp queries (one compute pass per dispatch: slower; for the bench). */
  profiler?: Profiler;
}

const rows = (flat: Float32Array | Uint32Array, width: number): number[][] =>
  Array.from({ length: flat.length / width }, (_, r) => Array.from(flat.subarray(r * width, (r + 1) * width)));

export class MoeEngine {
  private constructor(
    readonly ctx: GpuContext,
    readonly opened: OpenedModel,
    readonly gpuModel: GpuModel,
    private readonly maxPositions: number,
  ) {}

  static async load(ctx: GpuContext, opened: OpenedModel, options: UploadOptions & { maxPositions?: number } = {}): Promise<MoeEngine> {
    const gpuModel = await uploadModel(ctx, opened, options);
    const maxPositions = Math.min(options.maxPositions ?? 2048, opened.spec.maxPositionEmbeddings);
    return new MoeEngine(ctx, opened, gpuModel, maxPositions);
  }

  destroy(): void {
    this.gpuModel.destroy();
  }

  async generate(options: GenerateOptions): Promise<GenerationResult> {
    const { ctx } = this;
    const { device } = ctx;
    const prompt = [...options.promptIds];
    const V = this.opened.spec.vocabSize;
    if (prompt.length === 0) throw new RangeError('the prompt needs at least one token');
    const bad = prompt.find((id) => !Number.isInteger(id) || id < 0 || id >= V);
    if (bad !== undefined) throw new RangeError(`token id ${bad} is outside the vocabulary (0..${V - 1})`);
    const total = Math.min(this.maxPositions, prompt.length + options.maxNewTokens);
    if (prompt.length > this.maxPositions) throw new RangeError(`the prompt has ${prompt.length} tokens; the context holds ${this.maxPositions}`);

    const forward = new ForwardPass(ctx, this.opened.spec, this.gpuModel, total);
    const eos = new Set(options.eosTokenIds ?? this.opened.spec.eosTokenIds);
    const result: GenerationResult = { tokens: prompt, promptLength: prompt.length, layers: [], stoppedBy: 'limit', prefillMs: 0, decodeMs: 0 };
    const layerTraces = new Map<number, LayerTrace>();
    const draw = options.sampling ? seededRandom(options.sampling.seed) : null;
    const profiler = options.profiler ?? null;
    const started = performance.now();
    const promptIds = uploadStorage(device, Uint32Array.from(prompt), 'prompt ids');
    try {
      let ids = promptIds;
      let pos = 0;
      let count = prompt.length;
      while (true) {
        if (options.signal?.aborted) {
          result.stoppedBy = 'cancelled';
          break;
        }
        const isPrefill = pos === 0;
        const allLogits = isPrefill && options.allLogits === true;
        const rec = forward.recorder(count, allLogits, profiler);
        // Record the whole step, the next token's choice and the copies of what the host reads: one submit.
        const step = await ctx.checked('forward step', async () => {
          const buffers = await forward.encode(rec, ids, count, pos, allLogits);
          const next = rec.storage(4, 'next id');
          const rowOffset = buffers.logitRows - 1;
          if (options.sampling && draw) {
            await sample(ctx, rec, { logits: buffers.logits, id: next, width: V, rowOffset, settings: options.sampling, u: draw() });
          } else {
            await argmax(ctx, rec, { logits: buffers.logits, ids: next, numRows: 1, width: V, rowOffset });
          }
          const timings = profiler?.finish(rec.encoder);
          const readback = rec.readBack([
            { buffer: next, bytes: 4 },
            ...buffers.routing.flatMap((r) => [
              { buffer: r.routerLogits, bytes: count * r.numExperts * 4 },
              { buffer: r.expertIds, bytes: count * r.topK * 4 },
              { buffer: r.weights, bytes: count * r.topK * 4 },
            ]),
            ...(allLogits ? [{ buffer: buffers.logits, bytes: buffers.logitRows * V * 4 }] : []),
            ...(timings ? [timings] : []),
          ]);
          device.queue.submit([rec.finish()]);
          return { buffers, next, readback };
        });
        const [nextBytes, ...parts] = await step.readback.read();
        const nextId = new Uint32Array(nextBytes!)[0]!;
        for (const r of step.buffers.routing) {
          const [logits, experts, weights] = parts.splice(0, 3) as [ArrayBuffer, ArrayBuffer, ArrayBuffer];
          let trace = layerTraces.get(r.layer);
          if (!trace) layerTraces.set(r.layer, (trace = { layer: r.layer, routerLogits: [], experts: [], weights: [] }));
          trace.routerLogits.push(...rows(new Float32Array(logits), r.numExperts));
          trace.experts.push(...rows(new Uint32Array(experts), r.topK));
          trace.weights.push(...rows(new Float32Array(weights), r.topK));
        }
        if (allLogits) result.logits = rows(new Float32Array(parts.shift()!), V);
        if (profiler) profiler.record(isPrefill ? 'prefill' : 'decode', parts.shift()!);
        ids = step.next;
        pos += count;
        count = 1;
        if (isPrefill) result.prefillMs = performance.now() - started;
        result.tokens.push(nextId);
        result.layers = [...layerTraces.values()];
        options.onStep?.(result);
        if (eos.has(nextId)) {
          result.stoppedBy = 'eos';
          break;
        }
        if (result.tokens.length >= total) break;
      }
    } finally {
      promptIds.destroy();
      forward.destroy();
    }
    result.decodeMs = performance.now() - started - result.prefillMs;
    result.layers = [...layerTraces.values()];
    return result;
  }
}
