// The checkpoint the page holds: none yet, being opened, opened (with its card), or failed (and why).

import type { OpenedCheckpoint } from '../worker/protocol.ts';

export type ModelStatus =
  | { kind: 'empty' }
  | { kind: 'opening'; fileCount: number; totalBytes: number }
  | { kind: 'opened'; opened: OpenedCheckpoint }
  | { kind: 'failed'; errorName: string; message: string };
