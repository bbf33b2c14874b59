// Page entry: connect to WebGPU, expose the console API, render.

import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { createBrowserGpu } from '../browser/gpu.ts';
import type { GpuContext } from '../gpu/context.ts';
import { runSoftmaxTopK } from '../kernels/softmaxTopK.ts';
import { appStore } from '../store/appStore.ts';
import { App } from '../views/App.tsx';
import { runGpuSelfTest } from '../kernels/selfTest.ts';
import './styles.css';

/** For the browser console and the browser tests: the kernels on this page's device. */
export interface MoEScopeConsoleApi {
  ready: Promise<GpuContext>;
  softmaxTopK: (logits: number[], shape: Parameters<typeof runSoftmaxTopK>[2]) => Promise<{ probs: number[]; expertIds: number[]; weights: number[] }>;
  selfTest: () => Promise<void>;
}

declare global {
  interface Window {
    moescope: MoEScopeConsoleApi;
  }
}

const ready = createBrowserGpu();
const { set } = appStore.getState();
ready.then(
  (gpu) => set({ gpu: { kind: 'ready', adapter: gpu.adapter } }),
  (error: unknown) => set({ gpu: { kind: 'unavailable', message: error instanceof Error ? error.message : String(error) } }),
);

window.moescope = {
  ready,
  async softmaxTopK(logits, shape) {
    const out = await runSoftmaxTopK(await ready, Float32Array.from(logits), shape);
    return { probs: Array.from(out.probs), expertIds: Array.from(out.expertIds), weights: Array.from(out.weights) };
  },
  async selfTest() {
    set({ selfTest: null });
    try {
      set({ selfTest: await runGpuSelfTest(await ready) });
    } catch (error) {
      set({ selfTest: { error: error instanceof Error ? error.message : String(error) } });
    }
  },
};

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element');
createRoot(root).render(
  <StrictMode>
    <App onSelfTest={() => void window.moescope.selfTest()} />
  </StrictMode>,
);
