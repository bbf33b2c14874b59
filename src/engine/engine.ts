// The engine: upload a model, then prefill a prompt and decode token by token with a KV cache, capturing
// every MoE layer's routing for every processed token. One command-buffer submission and one readback per
// step; the next token's id goes from argmax to the embedding on the GPU. Runtime-agnostic: give it any GpuContext.

import { uploadStorage } from '../gpu/buffers.ts';
import type { GpuContext } from '../gpu/context.ts';
import { replayId } from '../gpu/recorder.ts';
import type { Profiler, StepTimer } from '../gpu/timers.ts';
import type { UploadOptions } from '../gpu/tensorUpload.ts';
import { argmax, sample, type SamplingSettings } from '../kernels/layers.ts';
import { seededRandom } from '../util/random.ts';
import type { OpenedModel } from '../model/openModel.ts';
import { ExpertProbe, type ProbeLayer } from './expertProbe.ts';
import { ForwardPass, type StepBuffers } from './forward.ts';
import { uploadModel, type GpuModel } from './gpuModel.ts';
import type { LayerRoutingRows } from './routingArena.ts';

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
  /** With stepLogits: the logits each token was chosen from (the last prompt position's, then each step's). */
  stepLogits?: number[][];
  /** With probe: every MoE layer's all-expert summary over the prompt. */
  probe?: ProbeLayer[];
  stoppedBy: 'eos' | 'limit' | 'cancelled';
  prefillMs: number;
  decodeMs: number;
  /** Host time spent recording and submitting the prefill step (part of prefillMs). */
  prefillRecordMs: number;
  /** From the start to the GPU finishing the prefill step (part of prefillMs; the rest is the readback). */
  prefillGpuDoneMs: number;
  /** From the start to the prefill's first submit (its first layer; the whole step when it is submitted once). */
  prefillFirstSubmitMs: number;
  /** Host time spent recording and submitting the decode steps (the part of a step the CPU pays). */
  decodeRecordMs: number;
  /** Decode steps that replayed a learned recording instead of running the kernel code (Recorder.replay). */
  replayedSteps: number;
}

export interface GenerateOptions {
  promptIds: readonly number[];
  maxNewTokens: number;
  eosTokenIds?: readonly number[];
  /** Sample with these settings and seed; greedy (argmax) when absent. */
  sampling?: SamplingSettings & { seed: number };
  /** Keep the logits each generated token was chosen from (one row per step). */
  stepLogits?: boolean;
  /** Keep the logits of every prompt position (the trace's --logits). */
  allLogits?: boolean;
  signal?: AbortSignal;
  /** Called after each generated token with everything so far (the UI updates live from it). */
  onStep?: (partial: GenerationResult) => void;
  /**
   * Run every expert of every MoE layer on every prompt token too (the dynamic analyses), keeping
   * silu(W_gate x) for `statesLayers`. The generated tokens and routing do not change.
   */
  probe?: { statesLayers: readonly number[] };
  /** Time every kernel with timestamp queries (one compute pass per dispatch: slower; for the bench). */
  profiler?: Profiler;
  /** Time each step on the GPU as it runs (two timestamps per compute pass; for the bench). */
  stepTimer?: StepTimer;
  /** Kernels (kernelName: shader and grid) left out of the GPU's work: the bench's in-place profile; the output is then wrong. */
  skipKernels?: (kernel: string) => boolean;
  /**
   * Decode steps submitted and not yet read back, at most (DEFAULT_STEPS_IN_FLIGHT unless told: step n+1
   * is recorded while the GPU runs step n). More hide a longer wait between a step's end on the GPU and
   * its readback on the host; after an end-of-sequence token, the steps already submitted are wasted.
   */
  stepsInFlight?: number;
}

/** Decode steps in flight where the caller does not say: enough in Node, where Dawn runs in the process. */
export const DEFAULT_STEPS_IN_FLIGHT = 2;

/**
 * Decode steps in flight in the browser (the app's worker and the bench page). Chromium runs Dawn in its
 * GPU process: each step's commands and its token's readback cross between processes, and with two steps
 * in flight the GPU idled 0.9–1.3 ms before every step. Measured on an H100 (Chromium 150, 2026-12-07,
 * docs/performance.md), decode tok/s with 2 / 4 / 8 in flight: demo model 666 / 3,167 / 2,841, granite
 * 461 / 720 / 668, OLMoE 445 / 568 / 603.
 */
export const BROWSER_STEPS_IN_FLIGHT = 4;

/** Rows `from` … of a [rows, width] array, as JS arrays. */
function rows(flat: Float32Array | Uint32Array, width: number, from = 0): number[][] {
  // an indexed loop: Array.from(subarray) per row was ~20× slower in V8 and cost 60 ms per 512-token prefill
  const out: number[][] = new Array(Math.max(0, flat.length / width - from));
  for (let r = 0; r < out.length; r++) {
    const row: number[] = new Array(width);
    for (let i = 0, at = (from + r) * width; i < width; i++) row[i] = flat[at + i]!;
    out[r] = row;
  }
  return out;
}

/** One MoE layer's routing for a step's tokens from `from` on, as the trace holds it. */
interface LayerTraceRows {
  layer: number;
  routerLogits: number[][];
  experts: number[][];
  weights: number[][];
}

function traceRows(r: LayerRoutingRows, from: number): LayerTraceRows {
  return { layer: r.layer, routerLogits: rows(r.routerLogits, r.numExperts, from), experts: rows(r.expertIds, r.topK, from), weights: rows(r.weights, r.topK, from) };
}

export class MoeEngine {
  private constructor(
    readonly ctx: GpuContext,
    readonly opened: OpenedModel,
    readonly gpuModel: GpuModel,
    private readonly maxPositions: number,
  ) {}

  static async load(ctx: GpuContext, opened: OpenedModel, options: UploadOptions & { maxPositions?: number } = {}): Promise<MoeEngine> {
    const gpuModel = await uploadModel(ctx, opened, options);
    // dynamic NTK RoPE exists to run past max_position_embeddings; other models stop there
    const limit = opened.spec.rope.type === 'dynamic' ? Infinity : opened.spec.maxPositionEmbeddings;
    const maxPositions = Math.min(options.maxPositions ?? 2048, limit);
    return new MoeEngine(ctx, opened, gpuModel, maxPositions);
  }

  private forward: ForwardPass | null = null;
  private queue: Promise<unknown> = Promise.resolve();

  destroy(): void {
    this.forward?.destroy();
    this.forward = null;
    this.gpuModel.destroy();
  }

  /**
   * Prefill the prompt, then decode; calls run one after another (they share the KV cache and the
   * recorded steps, kept between calls so that a second prompt allocates nothing).
   */
  generate(options: GenerateOptions): Promise<GenerationResult> {
    const run = this.queue.then(() => this.run(options));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** The forward pass with room for `positions`: the last one when big enough. */
  private forwardFor(positions: number): ForwardPass {
    if (!this.forward || this.forward.maxPositions < positions) {
      this.forward?.destroy();
      this.forward = new ForwardPass(this.ctx, this.opened.spec, this.gpuModel, positions);
    }
    return this.forward;
  }

  private async run(options: GenerateOptions): Promise<GenerationResult> {
    const { ctx } = this;
    const { device } = ctx;
    const prompt = [...options.promptIds];
    const V = this.opened.spec.vocabSize;
    if (prompt.length === 0) throw new RangeError('the prompt needs at least one token');
    const bad = prompt.find((id) => !Number.isInteger(id) || id < 0 || id >= V);
    if (bad !== undefined) throw new RangeError(`token id ${bad} is outside the vocabulary (0..${V - 1})`);
    const total = Math.min(this.maxPositions, prompt.length + options.maxNewTokens);
    if (prompt.length > this.maxPositions) throw new RangeError(`the prompt has ${prompt.length} tokens; the context holds ${this.maxPositions}`);

    const forward = this.forwardFor(total);
    const eos = new Set(options.eosTokenIds ?? this.opened.spec.eosTokenIds);
    const result: GenerationResult = { tokens: prompt, promptLength: prompt.length, layers: [], stoppedBy: 'limit', prefillMs: 0, decodeMs: 0, prefillRecordMs: 0, prefillGpuDoneMs: 0, prefillFirstSubmitMs: 0, decodeRecordMs: 0, replayedSteps: 0 };
    const layerTraces = new Map<number, LayerTrace>();
    const draw = options.sampling ? seededRandom(options.sampling.seed) : null;
    const depth = options.stepsInFlight ?? DEFAULT_STEPS_IN_FLIGHT;
    if (!Number.isInteger(depth) || depth < 1 || depth > 8) throw new RangeError(`steps in flight: ${depth} (1 to 8)`);
    const profiler = options.profiler ?? null;
    const started = performance.now();
    const promptIds = uploadStorage(device, Uint32Array.from(prompt), 'prompt ids');
    const probe = options.probe ? new ExpertProbe(ctx, prompt.length, this.opened.spec.hiddenSize, new Set(options.probe.statesLayers)) : null;

    // what a decode step's recording depends on besides its position: replay only between steps that agree
    const replayKey = `${options.sampling ? 'sampled' : 'greedy'}:${options.stepLogits === true}`;
    /** What a recorded step hands on, kept with its recording for replay. */
    type KeptStep = { buffers: StepBuffers; next: GPUBuffer; readback: { read(): Promise<ArrayBuffer[]> }; timedPasses: number };

    /** Record and submit step `index` (T tokens from position pos, ids on the GPU); its readback starts at once. */
    // keepFrom: a step that recomputes the whole sequence (below) reports routing for its last token only
    const submit = async (index: number, ids: GPUBuffer, T: number, pos: number, keepFrom = 0) => {
      const isPrefill = index === 0;
      const allLogits = isPrefill && options.allLogits === true;
      const rec = forward.recorder(T, allLogits, profiler, index % depth, options.stepTimer ?? null);
      rec.skip = options.skipKernels ?? null;
      const record = async () => {
        const recordStart = performance.now();
        // a decode step replays the recording learned from earlier steps where it can (Recorder.replay)
        const canReplay = !isPrefill && !profiler && forward.replayable;
        const family = `${replayKey}:${forward.decodeShape(pos)}`; // what the slots' recordings share
        const key = `${family}:ids ${replayId(ids)}`; // the input ids' buffer is bound in the recording
        let kept = canReplay ? (rec.replay(pos, key) as KeptStep | null) : null;
        const replayed = kept !== null;
        if (replayed) result.replayedSteps++;
        if (!kept) {
          const buffers = await forward.encode(rec, ids, T, pos, allLogits, isPrefill ? probe : null);
          const next = rec.storage(4, 'next id');
          const rowOffset = buffers.logitRows - 1;
          if (options.sampling && draw) {
            await sample(ctx, rec, { logits: buffers.logits, id: next, width: V, rowOffset, settings: options.sampling, u: draw() });
          } else {
            await argmax(ctx, rec, { logits: buffers.logits, ids: next, numRows: 1, width: V, rowOffset });
          }
          const timings = profiler?.finish(rec.encoder);
          const stepTime = rec.resolveTimer();
          const readback = rec.readBack([
            { buffer: next, bytes: 4 },
            ...buffers.routingArena.readParts(),
            ...(allLogits ? [{ buffer: buffers.logits, bytes: buffers.logitRows * V * 4 }] : options.stepLogits ? [{ buffer: buffers.logits, bytes: V * 4 }] : []),
            ...(isPrefill && probe ? probe.readParts() : []),
            ...(timings ? [timings] : []),
            ...(stepTime ? [stepTime.part] : []),
          ]);
          kept = { buffers, next, readback, timedPasses: stepTime?.passes ?? 0 };
          if (canReplay) rec.keepForReplay(pos, key, kept, family);
        }
        device.queue.submit([rec.finish()]);
        if (isPrefill) {
          result.prefillRecordMs = performance.now() - recordStart;
          result.prefillFirstSubmitMs = (rec.firstSubmitAt ?? performance.now()) - started;
          void device.queue.onSubmittedWorkDone().then(() => (result.prefillGpuDoneMs = performance.now() - started));
        } else {
          result.decodeRecordMs += performance.now() - recordStart;
        }
        const early = kept.buffers.routingArena.early();
        early?.forEach((chunk) => chunk.catch(() => undefined)); // awaited in absorb; a failed step must not leave them unhandled
        return { buffers: kept.buffers, next: kept.next, isPrefill, allLogits, T, pos, keepFrom, timedPasses: kept.timedPasses, replayed, read: kept.readback.read(), early };
      };
      // Steps repeat the same work: validate the prefill and the first decode step (every pipeline and
      // binding the run uses); waiting on an error scope every step would cost a round trip each.
      return index < 2 ? ctx.checked('forward step', record) : record();
    };
    type Step = Awaited<ReturnType<typeof submit>>;

    /** Append a finished step's token and routing to the result. */
    const absorb = async (step: Step, parts: ArrayBuffer[], early: Promise<LayerTraceRows[]> | null): Promise<number> => {
      const nextId = new Uint32Array(parts.shift()!)[0]!;
      const routed = early ? await early : step.buffers.routingArena.parse(parts).map((r) => traceRows(r, step.keepFrom));
      for (const r of routed) {
        let trace = layerTraces.get(r.layer);
        if (!trace) layerTraces.set(r.layer, (trace = { layer: r.layer, routerLogits: [], experts: [], weights: [] }));
        trace.routerLogits.push(...r.routerLogits);
        trace.experts.push(...r.experts);
        trace.weights.push(...r.weights);
      }
      if (step.allLogits) result.logits = rows(new Float32Array(parts.shift()!), V);
      if (options.stepLogits) {
        const row = step.allLogits ? result.logits!.at(-1)! : rows(new Float32Array(parts.shift()!), V)[0]!;
        (result.stepLogits ??= []).push(row);
      }
      if (step.isPrefill && probe) result.probe = probe.parse(parts);
      if (profiler) profiler.record(step.isPrefill ? 'prefill' : 'decode', parts.shift()!);
      if (step.timedPasses > 0) options.stepTimer?.record(step.isPrefill ? 'prefill' : 'decode', parts.shift()!, step.timedPasses, step.replayed);
      return nextId;
    };

    // While the GPU runs step n and its readback, record and submit step n+1 (and more, up to `depth`
    // steps in flight): its input id is step n's output, already on the GPU. If step n ends the run (EOS),
    // the steps after it are dropped unread. Steps rotate over `depth` recording caches so that a step never
    // overwrites what an earlier one's readback still has to read. Profiling times one step at a time, so
    // it does not overlap steps.
    const inFlight: Step[] = [];
    const recomputeAt = forward.recomputeAt;
    let recomputeIds: GPUBuffer | null = null;
    let submitted = 0;
    try {
      inFlight.push(await submit(submitted++, promptIds, prompt.length, 0));
      for (;;) {
        // top up: each new step reads the newest one's output; stop where the run ends or PhiMoE recomputes
        while (!profiler && inFlight.length < depth && result.tokens.length + inFlight.length < total && !options.signal?.aborted) {
          const newest = inFlight.at(-1)!;
          const nextPos = newest.pos + newest.T;
          if (nextPos === recomputeAt) break;
          inFlight.push(await submit(submitted++, newest.next, 1, nextPos));
        }
        const current = inFlight.shift()!;
        // a step whose routing was read in chunks (a prefill): each chunk becomes trace rows as it lands,
        // now that the next step is recorded, while the GPU runs the step's later layers
        const early = current.early ? Promise.all(current.early.map((chunk) => chunk.then((layers) => layers.map((r) => traceRows(r, current.keepFrom))))).then((chunks) => chunks.flat()) : null;
        early?.catch(() => undefined); // awaited below unless the step's own read fails first
        const nextId = await absorb(current, await current.read, early);
        if (current.isPrefill) result.prefillMs = performance.now() - started;
        result.tokens.push(nextId);
        result.layers = [...layerTraces.values()];
        options.onStep?.(result);
        if (eos.has(nextId)) {
          result.stoppedBy = 'eos';
          break;
        }
        if (result.tokens.length >= total) break;
        if (options.signal?.aborted) {
          result.stoppedBy = 'cancelled';
          break;
        }
        if (inFlight.length > 0) continue;
        const nextPos = current.pos + current.T;
        if (nextPos === recomputeAt) {
          // PhiMoE's longrope (transformers' prepare_inputs_for_generation): the step that first passes the
          // pretraining length drops the cache and runs the whole sequence again with the long scale
          recomputeIds = uploadStorage(device, Uint32Array.from(result.tokens), 'recomputed sequence ids');
          inFlight.push(await submit(submitted++, recomputeIds, nextPos + 1, 0, nextPos));
        } else {
          inFlight.push(await submit(submitted++, current.next, 1, nextPos));
        }
      }
    } finally {
      // steps submitted ahead and not needed: let their readbacks settle before their buffers go
      await Promise.all(inFlight.map((step) => step.read.catch(() => undefined)));
      promptIds.destroy();
      recomputeIds?.destroy();
      probe?.destroy();
    }
    result.decodeMs = performance.now() - started - result.prefillMs;
    result.layers = [...layerTraces.values()];
    return result;
  }
}
