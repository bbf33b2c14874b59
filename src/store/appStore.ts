// The page's one store. Views read it through selectors; only the actions in app/actions.ts write it.

import { createStore } from 'zustand/vanilla';
import type { GpuStatus, SelfTestResult } from './gpuSlice.ts';
import type { ModelStatus } from './modelSlice.ts';
import type { RunStatus, TraceState } from './traceSlice.ts';
import type { AnalysisName } from '../analysis/catalog.ts';
import type { AnalysisResult } from '../analysis/result.ts';

export type HeatmapColour = 'weight' | 'probability';

export interface AppState {
  gpu: GpuStatus;
  selfTest: SelfTestResult | { error: string } | null;
  model: ModelStatus;
  trace: TraceState | null;
  run: RunStatus;
  /** The MoE layer shown large, and what heatmap colour means. */
  focusLayer: number | null;
  heatmapColour: HeatmapColour;
  /** The token strip's layer, and the token whose path is isolated. */
  stripLayer: number | null;
  selectedToken: number | null;
  /** The analysis on screen, or the one being computed. */
  analysis:
    | { kind: 'idle' }
    | { kind: 'running'; analysis: AnalysisName; done: number; total: number }
    | { kind: 'done'; result: AnalysisResult }
    | { kind: 'failed'; analysis: AnalysisName; message: string };
  set(partial: Partial<Omit<AppState, 'set'>>): void;
}

export const appStore = createStore<AppState>()((set) => ({
  gpu: { kind: 'connecting' },
  selfTest: null,
  model: { kind: 'empty' },
  trace: null,
  run: { kind: 'idle' },
  focusLayer: null,
  heatmapColour: 'weight',
  stripLayer: null,
  selectedToken: null,
  analysis: { kind: 'idle' },
  set: (partial) => set(partial),
}));
