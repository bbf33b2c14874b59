// The decode step's kernels timed in place, as the step runs: the per-kernel profile (Profiler) puts
// every dispatch in a timed pass of its own, which adds a pass's overhead to each and hides what a
// dispatch costs between its neighbours. Here the step runs whole, timed by its passes (StepTimer), and
// again with each kernel's dispatches left out in turn (Recorder.skip): what leaving a kernel out saves
// is its cost in place, the barrier and launch before each of its dispatches included (the floor under
// any dispatch, a trivial kernel's, is what tools/dispatch_gpu_cost.mjs measures: ~2 µs on an H100).

import type { MoeEngine } from '../engine/engine.ts';
import type { GpuContext } from '../gpu/context.ts';
import { Profiler, StepTimer } from '../gpu/timers.ts';
import { mean, median } from '../util/stats.ts';

export interface InPlaceKernel {
  /** Shader and grid (kernelName), as the profile by grid names it. */
  kernel: string;
  dispatchesPerStep: number;
  /** The decode step's GPU time saved by leaving this kernel's dispatches out (median over rounds). */
  microsecondsPerStep: number;
}

export interface InPlaceProfile {
  /** GPU time of the whole decode step, first pass start to last pass end (median over rounds). */
  stepUs: number;
  kernels: InPlaceKernel[];
  steps: number;
  rounds: number;
}

/**
 * Time `steps` decode steps after `promptIds` whole and without each kernel of `kernels` (what the
 * profile by grid found in a decode step, dispatches per step), `rounds` times in turn; null without
 * timestamp queries.
 */
export async function profileInPlace(
  gpu: GpuContext,
  engine: MoeEngine,
  promptIds: number[],
  kernels: Record<string, { dispatchesPerStep: number }>,
  steps = 32,
  rounds = 3,
): Promise<InPlaceProfile | null> {
  if (!Profiler.supported(gpu.device)) return null;
  const names = Object.keys(kernels);
  const stepTime = async (skipped: string | null): Promise<number> => {
    const timer = new StepTimer(gpu.device);
    await engine.generate({ promptIds, maxNewTokens: steps + 1, eosTokenIds: [], stepTimer: timer, ...(skipped ? { skipKernels: (k: string) => k === skipped } : {}) });
    timer.destroy();
    return mean(timer.steps.get('decode')!.spanUs);
  };
  const whole: number[] = [];
  const without = new Map<string, number[]>(names.map((n) => [n, []]));
  for (let r = 0; r < rounds; r++) {
    for (const name of names) {
      // the whole step before each kernel's run, so that a drift in the GPU's clocks shows in both
      whole.push(await stepTime(null));
      without.get(name)!.push(await stepTime(name));
    }
  }
  const stepUs = median(whole);
  return {
    stepUs,
    kernels: names
      .map((kernel) => ({ kernel, dispatchesPerStep: kernels[kernel]!.dispatchesPerStep, microsecondsPerStep: stepUs - median(without.get(kernel)!) }))
      .sort((a, b) => b.microsecondsPerStep - a.microsecondsPerStep),
    steps,
    rounds,
  };
}
