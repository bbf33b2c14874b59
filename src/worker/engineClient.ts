// The page's handle on the engine worker: calls over the message protocol, with a callback for the
// replies that come before the last one (progress, steps). A worker that dies fails every pending call
// with a message and is replaced on the next call.

import type { DroppedFile, PageAnalysisRequest, OpenedCheckpoint, RunSettings, WorkerFailure, WorkerRequest, WorkerResponse } from './protocol.ts';

export class EngineError extends Error {
  constructor(failure: WorkerFailure) {
    super(failure.message);
    this.name = failure.name;
  }
}

type Pending = { onMessage: (r: WorkerResponse) => boolean; reject: (e: Error) => void };

export class EngineClient {
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  /**
   * Told when the loaded model is gone without a request failing for it: the GPU device was lost
   * (DeviceLost), or the worker died (WorkerCrashed; a new one starts on the next call).
   */
  onEngineLost: (errorName: 'DeviceLost' | 'WorkerCrashed', message: string) => void = () => {};

  private start(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(new URL('./engineWorker.ts', import.meta.url), { type: 'module', name: 'moescope-engine' });
    worker.onmessage = (event: MessageEvent<WorkerResponse>) => {
      if (event.data.kind === 'device-lost') {
        this.onEngineLost('DeviceLost', event.data.message);
        return;
      }
      const p = this.pending.get(event.data.requestId);
      if (p?.onMessage(event.data)) this.pending.delete(event.data.requestId);
    };
    worker.onerror = (event) => {
      const reason = new EngineError({ name: 'WorkerCrashed', message: `the engine worker crashed (${event.message || 'no message'}); load the model again` });
      for (const p of this.pending.values()) p.reject(reason);
      this.pending.clear();
      worker.terminate();
      this.worker = null;
      this.onEngineLost('WorkerCrashed', reason.message);
    };
    this.worker = worker;
    return worker;
  }

  /** Send a request; `handle` sees each reply and returns a value (or undefined while more are due). */
  private call<T>(request: WorkerRequest, handle: (r: WorkerResponse) => T | undefined): Promise<T> {
    return new Promise((resolve, reject) => {
      this.pending.set(request.requestId, {
        reject,
        onMessage: (r) => {
          if (r.kind === 'failed') {
            reject(new EngineError(r.error));
            return true;
          }
          const value = handle(r);
          if (value !== undefined) resolve(value);
          return value !== undefined;
        },
      });
      this.start().postMessage(request);
    });
  }

  /** Open and upload a checkpoint; `cancel` stops the upload (the call then fails with UploadCancelledError). */
  openCheckpoint(files: DroppedFile[], onProgress: (r: Extract<WorkerResponse, { kind: 'load-progress' }>) => void): { opened: Promise<OpenedCheckpoint>; cancel: () => void } {
    const requestId = this.nextId++;
    const opened = this.call({ kind: 'open-checkpoint', requestId, files }, (r) => {
      if (r.kind === 'load-progress') onProgress(r);
      return r.kind === 'checkpoint-opened' ? r.opened : undefined;
    });
    return { opened, cancel: () => this.cancel(requestId) };
  }

  private cancel(target: number): void {
    this.worker?.postMessage({ kind: 'cancel', requestId: this.nextId++, target } satisfies WorkerRequest);
  }

  analyze(request: PageAnalysisRequest, onProgress: (done: number, total: number) => void): Promise<Extract<WorkerResponse, { kind: 'analysis-result' }>> {
    return this.call({ kind: 'analyze', requestId: this.nextId++, request }, (r) => {
      if (r.kind === 'analysis-progress') onProgress(r.done, r.total);
      return r.kind === 'analysis-result' ? r : undefined;
    });
  }

  /** Run a prompt; `onEvent` sees started/step replies. Returns the done reply and a way to stop early. */
  generate(settings: RunSettings, onEvent: (r: WorkerResponse) => void): { done: Promise<Extract<WorkerResponse, { kind: 'generation-done' }>>; stop: () => void } {
    const requestId = this.nextId++;
    const done = this.call({ kind: 'generate', requestId, settings }, (r) => {
      onEvent(r);
      return r.kind === 'generation-done' ? r : undefined;
    });
    return { done, stop: () => this.cancel(requestId) };
  }
}
