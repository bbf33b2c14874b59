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

export async function runPrompt(settings: RunSettings): Promise<void> {
  stopRun?.();
  set({ run: { kind: 'running', tokensPerSecond: 0 } });
  const { done, stop } = engine.generate(settings, (r) => {
    if (r.kind === 'generation-started') {
      const promptText = 'text' in settings.prompt ? settings.prompt.text : settings.prompt.ids.join(', ');
      set({ trace: { model: r.model, promptLength: r.promptLength, tokens: [], layers: [], source: 'run', promptText, version: 0 }, selectedToken: null });
    } else if (r.kind === 'generation-step') {
      const trace = appStore.getState().trace;
      if (!trace) return;
      appendDelta(trace, r.delta);
      set({ trace: { ...trace }, run: { kind: 'running', tokensPerSecond: r.tokensPerSecond } });
    }
  });
  stopRun = stop;
  try {
    const result = await done;
    const decoded = Math.max(0, (appStore.getState().trace?.tokens.length ?? 0) - (appStore.getState().trace?.promptLength ?? 0) - 1);
    set({ run: { kind: 'done', stoppedBy: result.stoppedBy, prefillMs: result.prefillMs, decodeMs: result.decodeMs, tokensPerSecond: decoded && result.decodeMs ? (decoded * 1000) / result.decodeMs : 0 } });
  } catch (error) {
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
