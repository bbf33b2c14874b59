// Messages between the page and the engine worker: one discriminated union each way, keyed by `kind`.

import type { ModelCard } from '../model/card.ts';

/** A dropped or picked file with the path it had inside the dropped folder. */
export interface DroppedFile {
  path: string;
  file: File;
}

export type WorkerRequest = { kind: 'open-checkpoint'; requestId: number; files: DroppedFile[] };

export interface OpenedCheckpoint {
  card: ModelCard;
  hasTokenizer: boolean;
  hasChatTemplate: boolean;
  ignored: string[];
}

export interface WorkerFailure {
  /** The error class: SafetensorsFormatError, TensorMismatchError, … */
  name: string;
  message: string;
}

export type WorkerResponse =
  | { kind: 'checkpoint-opened'; requestId: number; opened: OpenedCheckpoint }
  | { kind: 'failed'; requestId: number; error: WorkerFailure };
