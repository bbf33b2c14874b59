// Messages between the page and the engine worker: one discriminated union each way, keyed by `kind`.
// Every reply carries the requestId of the request it answers; a request may get several replies
// (progress, steps) before its last one.

import type { AdapterReport } from '../gpu/adapter.ts';
import type { UploadProgress } from '../gpu/tensorUpload.ts';
import type { ModelCard } from '../model/card.ts';
import type { AnalysisName } from '../analysis/catalog.ts';
import type { AnalysisResult } from '../analysis/result.ts';
import type { TraceFile } from '../trace/traceFile.ts';

/** A dropped or picked file with the path it had inside the dropped folder. */
export interface DroppedFile {
  path: string;
  file: File;
}

export interface RunSettings {
  /** Text to tokenize (with the chat template when `chat`), or token ids when the model has no tokenizer. */
  prompt: { text: string; chat: boolean } | { ids: number[] };
  maxNewTokens: number;
  /** 0 = greedy. */
  temperature: number;
  topK: number;
  topP: number;
  seed: number;
}

/** An analysis as the page asks for it: texts as typed (tokenized in the worker; "1,2,3" without a tokenizer). */
export interface PageAnalysisRequest {
  analysis: AnalysisName;
  layers?: number[];
  experts?: number[];
  texts?: string[];
  compare?: string[];
}

export type WorkerRequest =
  | { kind: 'open-checkpoint'; requestId: number; files: DroppedFile[] }
  | { kind: 'generate'; requestId: number; settings: RunSettings }
  | { kind: 'cancel'; requestId: number; target: number }
  | { kind: 'analyze'; requestId: number; request: PageAnalysisRequest };

export interface OpenedCheckpoint {
  card: ModelCard;
  hasTokenizer: boolean;
  hasChatTemplate: boolean;
  ignored: string[];
  adapter: AdapterReport;
  gpuBytes: number;
  vocabSize: number;
  /** Why the engine cannot run this (valid) model yet; null when it can. */
  unsupported: string | null;
}

/** New rows since the last step: tokens appended, and each MoE layer's routing rows for them. */
export interface TraceDelta {
  tokens: { id: number; text: string }[];
  layers: { layer: number; routerLogits: number[][]; experts: number[][]; weights: number[][] }[];
}

export interface WorkerFailure {
  /** The error class: SafetensorsFormatError, TensorMismatchError, … */
  name: string;
  message: string;
}

export type WorkerResponse =
  | { kind: 'load-progress'; requestId: number; phase: 'reading' | 'uploading'; progress: UploadProgress }
  | { kind: 'checkpoint-opened'; requestId: number; opened: OpenedCheckpoint }
  | { kind: 'generation-started'; requestId: number; model: TraceFile['model']; promptLength: number }
  | { kind: 'generation-step'; requestId: number; delta: TraceDelta; tokensPerSecond: number }
  | { kind: 'generation-done'; requestId: number; stoppedBy: 'eos' | 'limit' | 'cancelled'; prefillMs: number; decodeMs: number }
  | { kind: 'analysis-progress'; requestId: number; done: number; total: number }
  | { kind: 'analysis-result'; requestId: number; result: AnalysisResult }
  | { kind: 'failed'; requestId: number; error: WorkerFailure }
  /** Not an answer to a request (requestId 0): the GPU device was lost; the model must be loaded again. */
  | { kind: 'device-lost'; requestId: 0; message: string };
