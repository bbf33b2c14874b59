// The engine's Web Worker: loading, GPU upload and generation happen here, off the UI thread. It owns
// the GPU device and at most one loaded model.

import { blobSource } from '../checkpoint/byteSource.ts';
import { createBrowserGpu } from '../browser/gpu.ts';
import { BROWSER_STEPS_IN_FLIGHT, MoeEngine, type GenerationResult } from '../engine/engine.ts';
import { checkEngineSupport, EngineUnsupportedError } from '../engine/gpuModel.ts';
import type { GpuContext } from '../gpu/context.ts';
import { BROWSER_UPLOAD_WRITES, type UploadProgress } from '../gpu/tensorUpload.ts';
import { openModel, type OpenedModel } from '../model/openModel.ts';
import { runAnalysis, weightAnalysisGpu } from '../analysis/runAnalysis.ts';
import { loadTokenizer, type TextTokenizer } from '../tokenizer/tokenizer.ts';
import { traceModel } from '../trace/traceFile.ts';
import { parseTokenIds } from '../util/indexList.ts';
import type { OpenedCheckpoint, PageAnalysisRequest, RunSettings, TraceDelta, WorkerRequest, WorkerResponse } from './protocol.ts';

let gpu: Promise<GpuContext> | null = null;

/** The worker's device, created on first use and again after a loss. */
function device(): Promise<GpuContext> {
  if (!gpu) {
    const created = createBrowserGpu();
    gpu = created;
    void created.then((ctx) =>
      ctx.device.lost.then((info) => {
        if (gpu === created) gpu = null;
        loaded = null;
        if (info.reason !== 'destroyed') post({ kind: 'device-lost', requestId: 0, message: `the GPU device was lost (${info.message || info.reason}); load the model again` });
      }),
    );
  }
  return gpu;
}
let loaded: { engine: MoeEngine; tokenizer: TextTokenizer | null } | null = null;
/** The open checkpoint, also when the engine cannot run it (its weights can still be analysed). */
let current: OpenedModel | null = null;
const running = new Map<number, AbortController>();

/**
 * The least time between two step messages of a run. The page batches steps per animation frame anyway;
 * a message per step, hundreds per second on a GPU, cost its thread 216 ms of decoding over granite's
 * 1,000 tokens (twenty-first session's page profile, H100), where the same rows in a message per 16
 * tokens decode in ~35% less time (v8.deserialize in Node, 24 layers × 32 experts).
 */
const STEP_MESSAGE_MS = 16;

function post(message: WorkerResponse): void {
  (self as unknown as Worker).postMessage(message);
}

/** Progress at most every 50 ms: the page needs a smooth bar, not a message per chunk. */
function throttled<T>(send: (value: T) => void): (value: T) => void {
  let last = 0;
  return (value) => {
    const now = performance.now();
    if (now - last >= 50) {
      last = now;
      send(value);
    }
  };
}

async function openCheckpoint(requestId: number, files: { path: string; file: File }[]): Promise<OpenedCheckpoint> {
  const opened = await openModel(files.map((f) => blobSource(f.file, f.path)));
  current = opened;
  const tokenizer = loadTokenizer(opened.checkpoint.text);
  const ctx = await device();
  loaded?.engine.destroy();
  loaded = null;
  const card = {
    card: opened.card,
    hasTokenizer: tokenizer !== null,
    hasChatTemplate: tokenizer?.chatTemplate != null,
    ignored: opened.checkpoint.ignored,
    adapter: ctx.adapter,
    vocabSize: opened.spec.vocabSize,
  };
  try {
    checkEngineSupport(opened);
  } catch (error) {
    if (error instanceof EngineUnsupportedError) return { ...card, gpuBytes: 0, unsupported: error.message };
    throw error;
  }
  const progress = throttled((p: UploadProgress) =>
    post({ kind: 'load-progress', requestId, phase: 'uploading', progress: structuredClone(p) }),
  );
  const abort = new AbortController();
  running.set(requestId, abort);
  // out-of-memory and validation errors during the upload come back as a typed error, not a console line
  const engine = await ctx
    .checked('loading the weights onto the GPU', () => MoeEngine.load(ctx, opened, { writes: BROWSER_UPLOAD_WRITES, onProgress: progress, maxPositions: 4096, signal: abort.signal }))
    .finally(() => running.delete(requestId));
  loaded = { engine, tokenizer };
  return { ...card, gpuBytes: engine.gpuModel.weightBytes, unsupported: null };
}

function promptIds(settings: RunSettings, tokenizer: TextTokenizer | null): number[] {
  if ('ids' in settings.prompt) return settings.prompt.ids;
  if (!tokenizer) throw new Error('this checkpoint has no tokenizer.json: enter token ids');
  const { text, chat } = settings.prompt;
  return chat ? tokenizer.encode(tokenizer.applyChatTemplate([{ role: 'user', content: text }]), false) : tokenizer.encode(text);
}

async function generate(requestId: number, settings: RunSettings): Promise<void> {
  if (!loaded) throw new Error('load a model first');
  const { engine, tokenizer } = loaded;
  const ids = promptIds(settings, tokenizer);
  const text = (id: number) => tokenizer?.tokenText(id) ?? `<${id}>`;
  const abort = new AbortController();
  running.set(requestId, abort);
  const model = traceModel(engine.opened.spec);
  post({ kind: 'generation-started', requestId, model, promptLength: ids.length });
  let sentTokens = 0;
  let sentRows = 0;
  const started = performance.now();
  let latest: GenerationResult | null = null; // the run so far, not yet sent in full
  let lastPost = -Infinity;
  let timer: ReturnType<typeof setTimeout> | null = null;
  /** The rows since the last message: one message for every step since then. */
  const send = () => {
    if (timer !== null) clearTimeout(timer);
    timer = null;
    const r = latest;
    if (!r) return;
    latest = null;
    lastPost = performance.now();
    const rows = r.layers[0]?.experts.length ?? 0;
    const delta: TraceDelta = {
      tokens: r.tokens.slice(sentTokens).map((id) => ({ id, text: text(id) })),
      layers: r.layers.map((l) => ({
        layer: l.layer,
        routerLogits: l.routerLogits.slice(sentRows),
        experts: l.experts.slice(sentRows),
        weights: l.weights.slice(sentRows),
      })),
    };
    sentTokens = r.tokens.length;
    sentRows = rows;
    const decoded = r.tokens.length - r.promptLength - 1;
    const decodeSeconds = (lastPost - started - r.prefillMs) / 1000;
    post({ kind: 'generation-step', requestId, delta, tokensPerSecond: decoded > 0 && decodeSeconds > 0 ? decoded / decodeSeconds : 0 });
  };
  // at most one message per STEP_MESSAGE_MS; a step after a quiet spell goes at once
  const onStep = (r: GenerationResult) => {
    latest = r;
    const wait = STEP_MESSAGE_MS - (performance.now() - lastPost);
    if (wait <= 0) send();
    else timer ??= setTimeout(send, wait);
  };
  try {
    const options = { promptIds: ids, maxNewTokens: settings.maxNewTokens, signal: abort.signal, onStep, stepsInFlight: BROWSER_STEPS_IN_FLIGHT };
    const sampling = settings.temperature > 0 ? { temperature: settings.temperature, topK: settings.topK, topP: settings.topP, seed: settings.seed } : undefined;
    const result = await engine.generate(sampling ? { ...options, sampling } : options);
    send();
    post({ kind: 'generation-done', requestId, stoppedBy: result.stoppedBy, prefillMs: result.prefillMs, decodeMs: result.decodeMs });
  } finally {
    send(); // the steps before a failure, too
    running.delete(requestId);
  }
}

/** Text as the user typed it → token ids: the tokenizer, or "1, 2, 3" when the checkpoint has none. */
function textIds(text: string, tokenizer: TextTokenizer | null): number[] {
  if (tokenizer) return tokenizer.encode(text);
  const ids = parseTokenIds(text);
  if (!ids) throw new Error('this checkpoint has no tokenizer.json: enter token ids like 1, 2, 3');
  return ids;
}

async function analyze(requestId: number, r: PageAnalysisRequest) {
  if (!current) throw new Error('open a checkpoint first');
  const tokenizer = loaded?.tokenizer ?? null;
  const progress = throttled((p: { done: number; total: number }) => post({ kind: 'analysis-progress', requestId, ...p }));
  return runAnalysis(
    { model: current, engine: loaded?.engine ?? null, gpu: weightAnalysisGpu(await device()), tokenText: (id) => tokenizer?.tokenText(id) ?? `<${id}>`, onProgress: (done, total) => progress({ done, total }) },
    {
      analysis: r.analysis,
      ...(r.layers ? { layers: r.layers } : {}),
      ...(r.experts ? { experts: r.experts } : {}),
      ...(r.texts ? { texts: r.texts.map((t) => textIds(t, tokenizer)) } : {}),
      ...(r.compare ? { compare: r.compare.map((t) => textIds(t, tokenizer)) } : {}),
    },
  );
}

self.onmessage = async (event: MessageEvent<WorkerRequest>) => {
  const request = event.data;
  try {
    switch (request.kind) {
      case 'open-checkpoint':
        post({ kind: 'checkpoint-opened', requestId: request.requestId, opened: await openCheckpoint(request.requestId, request.files) });
        break;
      case 'generate':
        await generate(request.requestId, request.settings);
        break;
      case 'cancel':
        running.get(request.target)?.abort();
        break;
      case 'analyze':
        post({ kind: 'analysis-result', requestId: request.requestId, result: await analyze(request.requestId, request.request) });
        break;
    }
  } catch (error) {
    const e = error instanceof Error ? error : new Error(String(error));
    post({ kind: 'failed', requestId: request.requestId, error: { name: e.name, message: e.message } });
  }
};
