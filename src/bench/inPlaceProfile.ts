// The decode step's kernels timed in place, as the step runs: the per-kernel profile (Profiler) puts
// every dispatch in a timed pass of its own, which adds a pass's overhead to each and hides what a
// dispatch costs between its neighbours. Here the step runs whole, timed by its passes (StepTimer), and
// again with each kernel's dispatches left out in turn (Recorder.skip): what leaving a kernel out saves
// is its cost in place, the barrier and launch before each of its dispatches included. And the floor
// under any dispatch: a chain of dispatches that do nothing but wait for each other.

import type { MoeEngine } from '../engine/engine.ts';
import type { GpuContext } from '../gpu/context.ts';
import { Profiler, StepTimer } from '../gpu/timers.ts';

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
  /** Per dispatch of an empty kernel in a chain of DISPATCH_CHAIN, each waiting for the one before: one workgroup, and EMPTY_WIDE. */
  emptyDispatchUs: { oneWorkgroup: number; wide: number };
  steps: number;
  rounds: number;
}

const DISPATCH_CHAIN = 200;
const EMPTY_WIDE = 1024; // workgroups of the wide empty dispatch: more than the GPU holds at once

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

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
    emptyDispatchUs: { oneWorkgroup: await emptyDispatchUs(gpu, 1), wide: await emptyDispatchUs(gpu, EMPTY_WIDE) },
    steps,
    rounds,
  };
}

/**
 * GPU µs per dispatch of a kernel that only adds 1 to one word, DISPATCH_CHAIN of them in one pass: each
 * reads and writes the word, so each waits for the one before (Dawn puts a barrier between them), as a
 * step's kernels wait for their inputs. Timed as the chain's pass minus a pass of one dispatch.
 */
async function emptyDispatchUs(gpu: GpuContext, workgroups: number): Promise<number> {
  const { device } = gpu;
  // a measuring instrument, not an engine kernel: kept here beside its only use
  const module = device.createShaderModule({
    label: 'empty dispatch',
    code: `@group(0) @binding(0) var<storage, read_write> word: array<u32>;
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  if (lid == 0u && wid.x == 0u) { word[0] += 1u; }
}`,
  });
  const pipeline = await device.createComputePipelineAsync({ layout: 'auto', compute: { module, entryPoint: 'main' } });
  const word = device.createBuffer({ size: 16, usage: GPUBufferUsage.STORAGE });
  const group = device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: word } }] });
  const querySet = device.createQuerySet({ type: 'timestamp', count: 2 });
  const resolve = device.createBuffer({ size: 16, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
  const read = device.createBuffer({ size: 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const passUs = async (dispatches: number): Promise<number> => {
    const enc = device.createCommandEncoder();
    const pass = enc.beginComputePass({ timestampWrites: { querySet, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 } });
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, group);
    for (let i = 0; i < dispatches; i++) pass.dispatchWorkgroups(workgroups);
    pass.end();
    enc.resolveQuerySet(querySet, 0, 2, resolve, 0);
    enc.copyBufferToBuffer(resolve, 0, read, 0, 16);
    device.queue.submit([enc.finish()]);
    await read.mapAsync(GPUMapMode.READ);
    const t = new BigUint64Array(read.getMappedRange().slice(0));
    read.unmap();
    return Number(t[1]! - t[0]!) / 1000;
  };
  await passUs(DISPATCH_CHAIN); // warm-up
  const chain: number[] = [];
  const one: number[] = [];
  for (let r = 0; r < 5; r++) {
    chain.push(await passUs(DISPATCH_CHAIN));
    one.push(await passUs(1));
  }
  for (const b of [word, resolve, read]) b.destroy();
  querySet.destroy();
  return (median(chain) - median(one)) / (DISPATCH_CHAIN - 1);
}
