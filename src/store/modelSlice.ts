// The checkpoint the page holds: none yet, being downloaded (the demo model), being opened (with upload progress), opened, or failed.

import type { OpenedCheckpoint } from '../worker/protocol.ts';

export interface LoadProgress {
  bytesDone: number;
  bytesTotal: number;
  startedAt: number; // performance.now()
  files: Record<string, { done: number; total: number }>;
}

export type ModelStatus =
  | { kind: 'empty' }
  | { kind: 'downloading'; name: string; progress: LoadProgress }
  | { kind: 'opening'; fileCount: number; totalBytes: number; progress: LoadProgress | null }
  | { kind: 'opened'; opened: OpenedCheckpoint; demo?: boolean }
  | { kind: 'failed'; errorName: string; message: string };
