// The engine's Web Worker: everything heavy happens here, off the UI thread.

import { blobSource } from '../checkpoint/byteSource.ts';
import { openModel } from '../model/openModel.ts';
import { loadTokenizer } from '../tokenizer/tokenizer.ts';
import type { OpenedCheckpoint, WorkerRequest, WorkerResponse } from './protocol.ts';

function post(message: WorkerResponse): void {
  (self as unknown as Worker).postMessage(message);
}

async function openCheckpoint(request: Extract<WorkerRequest, { kind: 'open-checkpoint' }>): Promise<OpenedCheckpoint> {
  const { checkpoint, card } = await openModel(request.files.map((f) => blobSource(f.file, f.path)));
  const tokenizer = loadTokenizer(checkpoint.text);
  return { card, hasTokenizer: tokenizer !== null, hasChatTemplate: tokenizer?.chatTemplate != null, ignored: checkpoint.ignored };
}

self.onmessage = async (event: MessageEvent<WorkerRequest>) => {
  const request = event.data;
  try {
    switch (request.kind) {
      case 'open-checkpoint':
        post({ kind: 'checkpoint-opened', requestId: request.requestId, opened: await openCheckpoint(request) });
        break;
    }
  } catch (error) {
    const e = error instanceof Error ? error : new Error(String(error));
    post({ kind: 'failed', requestId: request.requestId, error: { name: e.name, message: e.message } });
  }
};
