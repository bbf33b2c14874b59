// What the page knows about WebGPU: connecting, ready (with the adapter report), or unavailable (and why).

import type { AdapterReport } from '../gpu/adapter.ts';
import type { SelfTestResult } from '../kernels/selfTest.ts';

export type { SelfTestResult };

export type GpuStatus =
  | { kind: 'connecting' }
  | { kind: 'ready'; adapter: AdapterReport }
  | { kind: 'unavailable'; message: string };
