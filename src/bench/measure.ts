// The benchmark's measurement, the same in every runtime: load a checkpoint onto `gpu`, compile, time
// prefill and decode, and report. The CLI runs it in Node (src/cli/bench.ts); the bench page runs it in
// Chromium's Web Worker (src/bench/benchWorker.ts), as the product's page runs the engine.

import { closeCheckpoint } from '../checkpoint/checkpoint.ts';
import { MoeEngine } from '../engine/engine.ts';
import type { GpuContext } from '../gpu/context.ts';
import { Profiler, StepTimer } from '../gpu/timers.ts';
import { profileInPlace, type InPlaceProfile } from './inPlaceProfile.ts';
import { UPLOAD_CHUNK_BYTES, UPLOAD_READ_AHEAD, UPLOAD_WRITES_DEFAULT, type UploadWrites } from '../gpu/tensorUpload.ts';
import type { OpenedModel } from '../model/openModel.ts';
import { mean } from '../util/stats.ts';

/** What the bench times unless told, in both runtimes (steps in flight differ: see each runtime's default). */
export const BENCH_DEFAULTS = { promptTokens: 512, newTokens: 128, decodeContext: 32 } as const;

export interface BenchOptions {
  promptTokens: number;
  newTokens: number;
  /** Tokens already in the cache when decoding starts (attention reads them all every step). */
  decodeContext: number;
  stepsInFlight: number;
  profile?: boolean | undefined;
  profileGrids?: boolean | undefined;
  /** The decode step's kernels timed in place (inPlaceProfile.ts): each left out of the step in turn. */
  profileInPlace?: boolean | undefined;
  noStepTimer?: boolean | undefined;
  /** Bytes per read and reads in flight while loading (the engine's defaults where absent). */
  uploadChunkBytes?: number | undefined;
  uploadReadAhead?: number | undefined;
  /** How the weights reach their buffers (the engine's default where absent). */
  uploadWrites?: UploadWrites | undefined;
}

/** Copy bandwidth of this adapter: a large buffer copied repeatedly; bytes read + written per second. */
async function copyBandwidth(gpu: GpuContext): Promise<number> {
  const { device } = gpu;
  const bytes = Math.min(256 * 2 ** 20, Math.floor(device.limits.maxBufferSize / 4 / 4) * 4);
  const usage = GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
  const a = device.createBuffer({ size: bytes, usage });
  const b = device.createBuffer({ size: bytes, usage });
  const copies = 20;
  const time = async () => {
    const enc = device.createCommandEncoder();
    for (let i = 0; i < copies; i++) enc.copyBufferToBuffer(i % 2 ? b : a, 0, i % 2 ? a : b, 0, bytes);
    const start = performance.now();
    device.queue.submit([enc.finish()]);
    await device.queue.onSubmittedWorkDone();
    return performance.now() - start;
  };
  await time(); // warm-up (first use also zero-fills the buffers)
  const ms = Math.min(await time(), await time(), await time());
  a.destroy();
  b.destroy();
  return (2 * bytes * copies) / (ms / 1000);
}

type KernelTimes = Record<string, { microsecondsPerStep: number; dispatchesPerStep: number }>;

/** Prefills timed per bench; the fastest is reported. */
const PREFILL_RUNS = 5;

/**
 * GPU time per kernel from timestamp queries: one prefill of the prompt and 16 decode steps, each dispatch
 * in its own timed pass (so the sum exceeds the real step time by the passes' overhead).
 */
async function profileKernels(gpu: GpuContext, engine: MoeEngine, prefillPrompt: number[], decodePrompt: number[], byGrid: boolean): Promise<Record<string, KernelTimes> | null> {
  if (!Profiler.supported(gpu.device)) {
    console.error('profile: this adapter has no timestamp-query feature');
    return null;
  }
  const run = async (kind: 'prefill' | 'decode', promptIds: number[], maxNewTokens: number): Promise<KernelTimes> => {
    const profiler = new Profiler(gpu.device, undefined, byGrid);
    await engine.generate({ promptIds, maxNewTokens, eosTokenIds: [], profiler });
    profiler.destroy();
    const { steps, kernels } = profiler.totals.get(kind)!;
    return Object.fromEntries(
      [...kernels].sort((a, b) => b[1].ns - a[1].ns).map(([label, t]) => [label, { microsecondsPerStep: t.ns / 1000 / steps, dispatchesPerStep: t.count / steps }]),
    );
  };
  const out = { prefill: await run('prefill', prefillPrompt, 1), decode: await run('decode', decodePrompt, 17) };
  return out;
}

function profileTable(profile: Record<string, KernelTimes>): string {
  let out = '\n';
  for (const [kind, kernels] of Object.entries(profile)) {
    const total = Object.values(kernels).reduce((n, k) => n + k.microsecondsPerStep, 0);
    out += `\n| ${kind} kernel | dispatches/step | µs/step | share |\n| --- | --- | --- | --- |\n`;
    for (const [label, k] of Object.entries(kernels)) {
      out += `| ${label} | ${k.dispatchesPerStep.toFixed(0)} | ${k.microsecondsPerStep.toFixed(1)} | ${((100 * k.microsecondsPerStep) / total).toFixed(1)}% |\n`;
    }
    out += `| total | | ${total.toFixed(1)} | |\n`;
  }
  return out;
}

/** The in-place profile beside each kernel's time in a pass of its own (`ownPass`, the profile by grid). */
function inPlaceTable(p: InPlaceProfile, ownPass: KernelTimes): string {
  let out = `\n\n| decode kernel | dispatches/step | µs/step in place (left out: step − without it) | µs per dispatch | µs/step in its own passes |\n| --- | --- | --- | --- | --- |\n`;
  for (const k of p.kernels) {
    out += `| ${k.kernel} | ${k.dispatchesPerStep.toFixed(0)} | ${k.microsecondsPerStep.toFixed(1)} | ${(k.microsecondsPerStep / k.dispatchesPerStep).toFixed(2)} | ${ownPass[k.kernel]?.microsecondsPerStep.toFixed(1) ?? '–'} |\n`;
  }
  const sum = p.kernels.reduce((n, k) => n + k.microsecondsPerStep, 0);
  out += `| whole step | ${p.kernels.reduce((n, k) => n + k.dispatchesPerStep, 0).toFixed(0)} | ${p.stepUs.toFixed(1)} (kernels' sum ${sum.toFixed(1)}) | | |\n`;
  out += `\n${p.steps} decode steps per run, the whole step and the step without each kernel ${p.rounds} times each (medians)\n`;
  return out;
}

/** The bench's prompt: `length` token ids spread over the vocabulary (prefill takes them all, decode the first decodeContext). */
export function benchPrompt(vocabSize: number, length: number): number[] {
  return Array.from({ length }, (_, i) => (i * 7919 + 13) % vocabSize);
}

/** Time `opened` on `gpu` (the checkpoint is closed once its weights are on the GPU). */
export async function measureBench(gpu: GpuContext, opened: OpenedModel, label: string, runtime: string, options: BenchOptions) {
  const { promptTokens, newTokens, decodeContext, stepsInFlight } = options;
  const weightBytes = opened.card.weightBytes;
  const loadStart = performance.now();
  const upload = {
    chunkBytes: options.uploadChunkBytes ?? UPLOAD_CHUNK_BYTES,
    readAhead: options.uploadReadAhead ?? UPLOAD_READ_AHEAD,
    writes: options.uploadWrites ?? UPLOAD_WRITES_DEFAULT,
  };
  const engine = await MoeEngine.load(gpu, opened, { maxPositions: Math.max(promptTokens, decodeContext) + newTokens, ...upload });
  const loadSeconds = (performance.now() - loadStart) / 1000;
  await closeCheckpoint(opened.checkpoint);
  const V = opened.spec.vocabSize;
  const prompt = benchPrompt(V, Math.max(promptTokens, decodeContext));

  // warm-up: compiles every pipeline (prefill and decode variants) so that no timing below includes it
  await engine.generate({ promptIds: prompt.slice(0, 16), maxNewTokens: 3, eosTokenIds: [] });
  // prefill: the prompt, one token out (best of PREFILL_RUNS: a ~0.1 s burst varies ±30% with the GPU's
  // clocks from run to run); decode: a short prompt, then newTokens greedy tokens
  const prefillPrompt = prompt.slice(0, promptTokens);
  // the GPU's own time per step, as the steps run (two timestamps per compute pass), where supported
  const timers = Profiler.supported(gpu.device) && !options.noStepTimer ? { prefill: new StepTimer(gpu.device), decode: new StepTimer(gpu.device) } : null;
  const prefillRuns = [];
  for (let r = 0; r < PREFILL_RUNS; r++) prefillRuns.push(await engine.generate({ promptIds: prefillPrompt, maxNewTokens: 1, eosTokenIds: [], ...(timers ? { stepTimer: timers.prefill } : {}) }));
  const prefill = prefillRuns.reduce((a, b) => (a.prefillMs <= b.prefillMs ? a : b));
  const decode = await engine.generate({ promptIds: prompt.slice(0, decodeContext), maxNewTokens: newTokens, eosTokenIds: [], stepsInFlight, ...(timers ? { stepTimer: timers.decode } : {}) });
  const prefillGpu = timers?.prefill.steps.get('prefill');
  const decodeGpu = timers?.decode.steps.get('decode');
  for (const t of Object.values(timers ?? {})) t.destroy();
  const byGrid = options.profileGrids === true || options.profileInPlace === true;
  const profile = options.profile || byGrid ? await profileKernels(gpu, engine, prefillPrompt, prompt.slice(0, decodeContext), byGrid) : null;
  // the kernels the profile by grid found in a decode step, each left out in turn
  const inPlace = options.profileInPlace && profile ? await profileInPlace(gpu, engine, prompt.slice(0, decodeContext), profile.decode!) : null;
  const decoded = decode.tokens.length - decode.promptLength - 1;
  const prefillTokS = promptTokens / (prefill.prefillMs / 1000);
  const decodeTokS = decoded / (decode.decodeMs / 1000);
  // bytes of weights one decode token reads: everything active except the embedding table (one row)
  const embed = opened.spec.vocabSize * opened.spec.hiddenSize * 2;
  const activeBytes = opened.card.activeParameters * (weightBytes / opened.card.totalParameters) - (opened.spec.tieWordEmbeddings ? 0 : embed);
  const copy = await copyBandwidth(gpu);
  const decodeGBs = (activeBytes * decodeTokS) / 1e9;
  const report = {
    shape: label,
    runtime,
    adapter: gpu.adapter.name,
    subgroupKernels: gpu.subgroups,
    weightsGB: weightBytes / 1e9,
    loadSeconds,
    loadMBs: weightBytes / 1e6 / loadSeconds,
    uploadChunkBytes: upload.chunkBytes,
    uploadReadAhead: upload.readAhead,
    uploadWrites: upload.writes,
    prefillTokens: promptTokens,
    prefillTokS,
    decodeTokens: decoded,
    decodeContext,
    stepsInFlight,
    decodeTokS,
    /** The prefill's timeline, ms from its start: first submit, GPU done, readback absorbed; and the host's time to record and submit it. */
    prefillFirstSubmitMs: prefill.prefillFirstSubmitMs,
    prefillRecordMs: prefill.prefillRecordMs,
    prefillGpuDoneMs: prefill.prefillGpuDoneMs,
    prefillMs: prefill.prefillMs,
    /** GPU time of the fastest prefill, its first pass's start to its last pass's end (timestamp queries). */
    prefillGpuMs: prefillGpu ? Math.min(...prefillGpu.spanUs) / 1000 : null,
    /** GPU time per decode step, start to end of its passes, and busy inside them (mean over the steps). */
    decodeGpuUs: decodeGpu ? mean(decodeGpu.spanUs) : null,
    decodeGpuBusyUs: decodeGpu ? mean(decodeGpu.busyUs) : null,
    /** The GPU's idle time between one decode step's end and the next one's start. */
    decodeGpuGapUs: decodeGpu && decodeGpu.gapUs.length > 0 ? mean(decodeGpu.gapUs) : null,
    /** The same before the steps that replayed (the steady state: a run's first steps are recorded in full). */
    decodeGpuReplayedGapUs: decodeGpu && decodeGpu.replayedGapUs.length > 0 ? mean(decodeGpu.replayedGapUs) : null,
    /** Host time per decode step to record and submit it (overlaps the GPU's previous step). */
    decodeRecordUs: (decode.decodeRecordMs * 1000) / decoded,
    /** Decode steps that replayed a learned recording (Recorder.replay) instead of running the kernel code. */
    decodeReplayedSteps: decode.replayedSteps,
    activeGBPerToken: activeBytes / 1e9,
    decodeGBs,
    copyGBs: copy / 1e9,
    shareOfCopyBandwidth: decodeGBs / (copy / 1e9),
    gpuMemoryGB: engine.gpuModel.weightBytes / 1e9,
    /** The greedy tokens of the decode run: the same checkpoint must give the same ones in every runtime. */
    decodedIds: decode.tokens.slice(decode.promptLength),
    ...(profile ? { profile } : {}),
    ...(inPlace ? { inPlace } : {}),
  };
  engine.destroy();
  return report;
}

export type BenchReport = Awaited<ReturnType<typeof measureBench>>;

/** The report as the table both runtimes print (markdown), the per-kernel profile after it. */
export function benchTable(report: BenchReport): string {
  const rows: [string, string][] = [
    ['shape', report.shape],
    ['runtime', report.runtime],
    ['adapter', `${report.adapter}${report.subgroupKernels ? ', subgroup kernels' : ', plain kernels'}`],
    ['weights', `${report.weightsGB.toFixed(3)} GB`],
    ['load', `${report.loadSeconds.toFixed(2)} s, ${report.loadMBs.toFixed(0)} MB/s (${report.uploadWrites} writes; reads of ${report.uploadChunkBytes / 2 ** 20} MiB, ${report.uploadReadAhead} in flight)`],
    ['prefill', `${report.prefillTokens} tokens, ${report.prefillTokS.toFixed(1)} tok/s`],
    ['decode', `${report.decodeTokens} tokens after ${report.decodeContext} cached, ${report.decodeTokS.toFixed(1)} tok/s`],
    ['prefill timeline', `first submit ${report.prefillFirstSubmitMs.toFixed(1)} ms, recorded ${report.prefillRecordMs.toFixed(1)} ms, GPU done ${report.prefillGpuDoneMs.toFixed(1)} ms, read back ${report.prefillMs.toFixed(1)} ms`],
    ['decode host recording', `${report.decodeRecordUs.toFixed(0)} µs per step (${report.decodeReplayedSteps} of ${report.decodeTokens} steps replayed)`],
    ['GPU time per step', report.decodeGpuUs === null ? 'no timestamp-query' : `decode ${report.decodeGpuUs.toFixed(0)} µs (busy ${report.decodeGpuBusyUs!.toFixed(0)}, idle ${report.decodeGpuGapUs?.toFixed(0) ?? '–'} before each, ${report.decodeGpuReplayedGapUs?.toFixed(0) ?? '–'} before a replayed one), prefill ${report.prefillGpuMs!.toFixed(1)} ms`],
    ['decode weights read', `${report.activeGBPerToken.toFixed(3)} GB/token → ${report.decodeGBs.toFixed(2)} GB/s`],
    ['copy bandwidth', `${report.copyGBs.toFixed(1)} GB/s (decode reaches ${(100 * report.shareOfCopyBandwidth).toFixed(1)}%)`],
    ['GPU memory (weights)', `${report.gpuMemoryGB.toFixed(3)} GB`],
  ];
  const lines = ['| measure | value |', '| --- | --- |', ...rows.map(([k, v]) => `| ${k} | ${v} |`)];
  return lines.join('\n') + (report.profile ? profileTable(report.profile) : '') + (report.inPlace ? inPlaceTable(report.inPlace, report.profile?.decode ?? {}) : '');
}
