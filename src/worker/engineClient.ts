// The page's handle on the engine worker: promise-returning calls over the message protocol. A worker
// that dies fails every pending call with a message and is replaced on the next call.

import type { DroppedFile, OpenedCheckpoint, WorkerFailure, WorkerRequest, WorkerResponse } from './protocol.ts';

export class EngineError extends Error {
  constructor(failure: WorkerFailure) {
    super(failure.message);
    this.name = failure.name;
  }
}

type Pending = { resolve: (r: WorkerResponse) => void; reject: (e: Error) => void };

export class EngineClient {
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  private start(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(new URL('./engineWorker.ts', import.meta.url), { type: 'module', name: 'moescope-engine' });
    worker.onmessage = (event: MessageEvent<WorkerResponse>) => {
      const p = this.pending.get(event.data.requestId);
      this.pending.delete(event.data.requestId);
      p?.resolve(event.data);
    };
    worker.onerror = (event) => {
      const reason = new EngineError({ name: 'WorkerCrashed', message: `the engine worker crashed (${event.message || 'no message'}); try again` });
      for (const p of this.pending.values()) p.reject(reason);
      this.pending.clear();
      worker.terminate();
      this.worker = null;
    };
    this.worker = worker;
    return worker;
  }

  private call(request: WorkerRequest, transfer: Transferable[] = []): Promise<WorkerResponse> {
    return new Promise((resolve, reject) => {
      this.pending.set(request.requestId, { resolve, reject });
      this.start().postMessage(request, transfer);
    });
  }

  async openCheckpoint(files: DroppedFile[]): Promise<OpenedCheckpoint> {
    const response = await this.call({ kind: 'open-checkpoint', requestId: this.nextId++, files });
    if (response.kind === 'failed') throw new EngineError(response.error);
    return response.opened;
  }
}
