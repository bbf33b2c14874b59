// The page's one store. Views read it through selectors; only actions here write it.

import { createStore } from 'zustand/vanilla';
import type { GpuStatus, SelfTestResult } from './gpuSlice.ts';
import type { ModelStatus } from './modelSlice.ts';

export interface AppState {
  gpu: GpuStatus;
  selfTest: SelfTestResult | { error: string } | null;
  model: ModelStatus;
  setGpu(status: GpuStatus): void;
  setSelfTest(result: AppState['selfTest']): void;
  setModel(status: ModelStatus): void;
}

export const appStore = createStore<AppState>()((set) => ({
  gpu: { kind: 'connecting' },
  selfTest: null,
  model: { kind: 'empty' },
  setGpu: (gpu) => set({ gpu }),
  setSelfTest: (selfTest) => set({ selfTest }),
  setModel: (model) => set({ model }),
}));
