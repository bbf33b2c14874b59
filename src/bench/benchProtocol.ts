// Messages between the bench page (benchPage.ts) and its Web Worker (benchWorker.ts).

import type { BenchOptions, BenchReport } from './measure.ts';

export interface BenchRequest {
  files: File[];
  /** The shape's or checkpoint's name for the report. */
  label: string;
  options: BenchOptions;
}

export type BenchReply = { kind: 'report'; report: BenchReport } | { kind: 'error'; message: string };

/** What the page leaves on `window` for whoever drives it (src/node/browserBench.ts). */
export const RESULT_GLOBAL = 'moescopeBenchResult';
