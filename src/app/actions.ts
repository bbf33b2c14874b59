// What the page's controls do: call the engine worker and record the outcome in the store.

import { DEMO_MODEL, downloadFiles } from '../browser/demoModel.ts';
import { appStore, type AppState } from '../store/appStore.ts';
import type { TraceState } from '../store/traceSlice.ts';
import { parseTrace } from '../trace/traceFile.ts';
import type { PageAnalysisRequest } from '../worker/protocol.ts';
import { EngineClient } from '../worker/engineClient.ts';
import type { DroppedFile, RunSettings, TraceDelta } from '../worker/protocol.ts';

const engine = new EngineClient();
let latestOpen = 0;
let stopRun: (() => void) | null = null;
let cancelOpen: (() => void) | null = null;

engine.onEngineLost = (errorName, message) => {
  stopRun = null;
  set({ model: { kind: 'failed', errorName, message }, run: { kind: 'idle' }, analysis: { kind: 'idle' } });
};
const set = (partial: Partial<Omit<AppState, 'set'>>) => appStore.getState().set(partial);
const failure = (error: unknown) => {
  const e = error instanceof Error ? error : new Error(String(error));
  return { errorName: e.name, message: e.message };
};

/** Fetch the demo model shipped in public/models/ (with progress and cancel), then open it like a drop. */
export async function loadDemoModel(): Promise<void> {
  const ticket = ++latestOpen;
  stopRun?.();
  const abort = new AbortController();
  cancelOpen = () => abort.abort(new DOMException('cancelled', 'AbortError'));
  const startedAt = performance.now();
  try {
    const files = await downloadFiles(`${import.meta.env.BASE_URL}models/${DEMO_MODEL.name}/`, DEMO_MODEL.files, (p) => {
      if (ticket === latestOpen) set({ model: { kind: 'downloading', name: DEMO_MODEL.name, progress: { ...p, files: { ...p.files }, startedAt } } });
    }, abort.signal);
    if (ticket === latestOpen) await openCheckpoint(files, { demo: true });
  } catch (error) {
    const cancelled = abort.signal.aborted;
    if (ticket === latestOpen) {
      set({ model: cancelled ? { kind: 'failed', errorName: 'UploadCancelledError', message: 'The demo model download was cancelled.' } : { kind: 'failed', ...failure(error) } });
    }
  }
}

export async function openCheckpoint(files: DroppedFile[], origin: { demo?: boolean } = {}): Promise<void> {
  if (files.length === 0) {
    set({ model: { kind: 'failed', errorName: 'NoFiles', message: 'Nothing was dropped. Drop a checkpoint folder or pick its files.' } });
    return;
  }
  const ticket = ++latestOpen;
  stopRun?.();
  const startedAt = performance.now();
  set({ model: { kind: 'opening', fileCount: files.length, totalBytes: files.reduce((n, f) => n + f.file.size, 0), progress: null } });
  const request = engine.openCheckpoint(files, ({ progress }) => {
    const model = appStore.getState().model;
    if (ticket === latestOpen && model.kind === 'opening') set({ model: { ...model, progress: { ...progress, startedAt } } });
  });
  cancelOpen = request.cancel;
  try {
    const opened = await request.opened;
    if (ticket === latestOpen) set({ model: { kind: 'opened', opened, demo: origin.demo === true }, run: { kind: 'idle' }, analysis: { kind: 'idle' } });
  } catch (error) {
    if (ticket === latestOpen) set({ model: { kind: 'failed', ...failure(error) } });
  } finally {
    if (ticket === latestOpen) cancelOpen = null;
  }
}

export function cancelLoading(): void {
  cancelOpen?.();
}

function appendDelta(trace: TraceState, delta: TraceDelta): void {
  trace.tokens.push(...delta.tokens);
  for (const d of delta.layers) {
    let rows = trace.layers.find((l) => l.layer === d.layer);
    if (!rows) trace.layers.push((rows = { layer: d.layer, routerLogits: [], experts: [], weights: [] }));
    rows.routerLogits.push(...d.routerLogits);
    rows.experts.push(...d.experts);
    rows.weights.push(...d.weights);
  }
  trace.layers.sort((a, b) => a.layer - b.layer);
  trace.version++;
}

/**
 * A run's steps, handed to the store at most once per animation frame. The engine decodes up to thousands
 * of tokens per second on a GPU (the demo model: 3,167 tok/s in Chromium on an H100), and the views cost
 * the page's thread tens of milliseconds per store update (52 ms median per step for the demo model on a
 * 2-core machine): one update per step would leave the page seconds behind the engine.
 */
class StepBatcher {
  private pending: TraceDelta[] = [];
  private tokensPerSecond = 0;
  private frame: number | null = null;

  add(delta: TraceDelta, tokensPerSecond: number): void {
    this.pending.push(delta);
    this.tokensPerSecond = tokensPerSecond;
    this.frame ??= requestAnimationFrame(() => this.flush());
  }

  /** Append every pending step to the trace now (each frame, and once more when the run ends). */
  flush(): void {
    if (this.frame !== null) cancelAnimationFrame(this.frame);
    this.frame = null;
    const trace = appStore.getState().trace;
    // a run replaced by a newer one leaves the newer run's trace alone
    if (!trace || this.pending.length === 0 || this !== currentSteps) return;
    for (const delta of this.pending) appendDelta(trace, delta);
    this.pending = [];
    set({ trace: { ...trace }, run: { kind: 'running', tokensPerSecond: this.tokensPerSecond } });
  }
}

let currentSteps: StepBatcher | null = null;

export async function runPrompt(settings: RunSettings): Promise<void> {
  stopRun?.();
  set({ run: { kind: 'running', tokensPerSecond: 0 } });
  const steps = (currentSteps = new StepBatcher());
  const { done, stop } = engine.generate(settings, (r) => {
    if (r.kind === 'generation-started') {
      const promptText = 'text' in settings.prompt ? settings.prompt.text : settings.prompt.ids.join(', ');
      set({ trace: { model: r.model, promptLength: r.promptLength, tokens: [], layers: [], source: 'run', promptText, version: 0 }, selectedToken: null });
    } else if (r.kind === 'generation-step') {
      steps.add(r.delta, r.tokensPerSecond);
    }
  });
  stopRun = stop;
  try {
    const result = await done;
    steps.flush();
    const decoded = Math.max(0, (appStore.getState().trace?.tokens.length ?? 0) - (appStore.getState().trace?.promptLength ?? 0) - 1);
    set({ run: { kind: 'done', stoppedBy: result.stoppedBy, prefillMs: result.prefillMs, decodeMs: result.decodeMs, tokensPerSecond: decoded && result.decodeMs ? (decoded * 1000) / result.decodeMs : 0 } });
  } catch (error) {
    steps.flush(); // the steps that arrived before the failure stay visible
    set({ run: { kind: 'failed', ...failure(error) } });
  } finally {
    if (stopRun === stop) stopRun = null;
  }
}

export function stopPrompt(): void {
  stopRun?.();
}

export async function importTrace(file: File): Promise<void> {
  try {
    const t = parseTrace(await file.text(), file.name);
    set({ trace: { ...t, source: { file: file.name }, version: 1 }, run: { kind: 'idle' }, focusLayer: null, selectedToken: null });
  } catch (error) {
    set({ run: { kind: 'failed', ...failure(error) } });
  }
}

export async function runAnalysis(request: PageAnalysisRequest): Promise<void> {
  const { analysis } = request;
  set({ analysis: { kind: 'running', analysis, done: 0, total: 1 } });
  try {
    const r = await engine.analyze(request, (done, total) => set({ analysis: { kind: 'running', analysis, done, total } }));
    set({ analysis: { kind: 'done', result: r.result } });
  } catch (error) {
    set({ analysis: { kind: 'failed', analysis, message: failure(error).message } });
  }
}
