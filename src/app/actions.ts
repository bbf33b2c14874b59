// What the page's controls do: call the engine worker and record the outcome in the store.

import { appStore } from '../store/appStore.ts';
import { EngineClient } from '../worker/engineClient.ts';
import type { DroppedFile } from '../worker/protocol.ts';

const engine = new EngineClient();
let latestOpen = 0;

export async function openCheckpoint(files: DroppedFile[]): Promise<void> {
  const { setModel } = appStore.getState();
  if (files.length === 0) {
    setModel({ kind: 'failed', errorName: 'NoFiles', message: 'Nothing was dropped. Drop a checkpoint folder or pick its files.' });
    return;
  }
  const ticket = ++latestOpen;
  setModel({ kind: 'opening', fileCount: files.length, totalBytes: files.reduce((n, f) => n + f.file.size, 0) });
  try {
    const opened = await engine.openCheckpoint(files);
    if (ticket === latestOpen) setModel({ kind: 'opened', opened });
  } catch (error) {
    const e = error instanceof Error ? error : new Error(String(error));
    if (ticket === latestOpen) setModel({ kind: 'failed', errorName: e.name, message: e.message });
  }
}
