// The page's one store. Views read it through selectors; only actions here write it.

import { createStore } from 'zustand/vanilla';
import type { GpuStatus, SelfTestResult } from './gpuSlice.ts';

export interface AppState {
  gpu: GpuStatus;
  selfTest: SelfTestResult | { error: string } | null;
  setGpu(status: GpuStatus): void;
  setSelfTest(result: AppState['selfTest']): void;
}

export const appStore = createStore<AppState>()((set) => ({
  gpu: { kind: 'connecting' },
  selfTest: null,
  setGpu: (gpu) => set({ gpu }),
  setSelfTest: (selfTest) => set({ selfTest }),
}));
