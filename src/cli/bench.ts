// `moescope bench` (npm run bench): load a checkpoint or a synthetic one at a real model's shape, then
// time loading, prefill and decode on this machine's adapter, and print a table and JSON. In Node by
// default; with --browser in headless Chromium's Web Worker, as the page runs the engine; with --app the
// app page itself, driven as a user drives it (src/node/appTiming.ts).

import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { BENCH_DEFAULTS, benchTable, measureBench, type BenchOptions, type BenchReport } from '../bench/measure.ts';
import { BENCH_SHAPES } from '../bench/shapes.ts';
import { BROWSER_STEPS_IN_FLIGHT, DEFAULT_STEPS_IN_FLIGHT } from '../engine/engine.ts';
import type { GpuContext } from '../gpu/context.ts';
import { BROWSER_UPLOAD_WRITES, UPLOAD_WRITES, type UploadWrites } from '../gpu/tensorUpload.ts';
import { openModel } from '../model/openModel.ts';
import { timeAppPage, appTimingTable } from '../node/appTiming.ts';
import { benchInBrowser } from '../node/browserBench.ts';
import { checkpointSources } from '../node/checkpointPaths.ts';
import { writeSyntheticCheckpoint } from '../node/syntheticCheckpoint.ts';
import { commandGpu } from './commandGpu.ts';
import { UsageError } from './run.ts';

export async function benchCommand(args: string[], lent?: GpuContext): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { shape: { type: 'string' }, model: { type: 'string' }, 'prompt-tokens': { type: 'string' }, 'new-tokens': { type: 'string' }, 'decode-context': { type: 'string' }, cache: { type: 'string' }, profile: { type: 'boolean' }, 'profile-grids': { type: 'boolean' }, 'profile-in-place': { type: 'boolean' }, 'no-subgroups': { type: 'boolean' }, 'steps-in-flight': { type: 'string' }, 'no-step-timer': { type: 'boolean' }, browser: { type: 'boolean' }, app: { type: 'boolean' }, runs: { type: 'string' }, 'cpu-profile': { type: 'string' }, chromium: { type: 'string' }, 'chromium-flag': { type: 'string', multiple: true }, 'upload-chunk-mib': { type: 'string' }, 'upload-read-ahead': { type: 'string' }, 'upload-writes': { type: 'string' } },
    strict: true,
  });
  const promptTokens = Number(values['prompt-tokens'] ?? BENCH_DEFAULTS.promptTokens);
  const newTokens = Number(values['new-tokens'] ?? BENCH_DEFAULTS.newTokens);
  // tokens already in the cache when decoding starts (attention reads them all every step)
  const decodeContext = Number(values['decode-context'] ?? BENCH_DEFAULTS.decodeContext);
  // as each runtime runs it unless told: the page keeps more steps in flight than Node
  const stepsInFlight = Number(values['steps-in-flight'] ?? (values.browser ? BROWSER_STEPS_IN_FLIGHT : DEFAULT_STEPS_IN_FLIGHT));
  const uploadChunkMiB = values['upload-chunk-mib'] === undefined ? undefined : Number(values['upload-chunk-mib']);
  const uploadReadAhead = values['upload-read-ahead'] === undefined ? undefined : Number(values['upload-read-ahead']);
  if (![promptTokens, newTokens, decodeContext, stepsInFlight, uploadChunkMiB ?? 1, uploadReadAhead ?? 1].every((n) => Number.isInteger(n) && n >= 1)) {
    throw new UsageError('--prompt-tokens, --new-tokens, --decode-context, --steps-in-flight, --upload-chunk-mib and --upload-read-ahead take positive integers');
  }
  // as each runtime loads unless told (BROWSER_UPLOAD_WRITES: the page's way)
  const uploadWrites = (values['upload-writes'] ?? (values.browser ? BROWSER_UPLOAD_WRITES : undefined)) as UploadWrites | undefined;
  if (uploadWrites !== undefined && !UPLOAD_WRITES.includes(uploadWrites)) throw new UsageError(`--upload-writes takes ${UPLOAD_WRITES.join(' or ')}`);
  let dir = values.model;
  let label = dir ?? '';
  if (!dir) {
    const name = values.shape ?? 'tiny';
    const make = BENCH_SHAPES[name];
    if (!make) throw new UsageError(`unknown --shape ${name}; shapes: ${Object.keys(BENCH_SHAPES).join(', ')}`);
    const shape = make();
    const started = performance.now();
    dir = await writeSyntheticCheckpoint(join(values.cache ?? join(tmpdir(), 'moescope-bench'), shape.name), shape.config, shape.tensors);
    console.error(`synthetic ${shape.name} ready in ${((performance.now() - started) / 1000).toFixed(1)} s: ${shape.description}`);
    label = shape.name;
  }

  if (values['cpu-profile'] !== undefined && !values.app) throw new UsageError('--cpu-profile profiles the app page: it needs --app');
  if (values.app) {
    // the app page as users drive it: a prompt as long as the decode's cached context, then newTokens
    const runs = Number(values.runs ?? 2);
    if (!Number.isInteger(runs) || runs < 1) throw new UsageError('--runs takes a positive integer');
    const report = await timeAppPage(dir, label, { promptTokens: decodeContext, newTokens, runs, cpuProfile: values['cpu-profile'] }, { chromium: values.chromium, chromiumFlags: values['chromium-flag'] ?? [] });
    console.log(appTimingTable(report));
    console.log(JSON.stringify(report));
    return 0;
  }
  const options: BenchOptions = {
    promptTokens,
    newTokens,
    decodeContext,
    stepsInFlight,
    profile: values.profile,
    profileGrids: values['profile-grids'],
    profileInPlace: values['profile-in-place'],
    noStepTimer: values['no-step-timer'],
    uploadChunkBytes: uploadChunkMiB === undefined ? undefined : uploadChunkMiB * 2 ** 20,
    uploadReadAhead,
    uploadWrites,
  };
  let report: BenchReport;
  if (values.browser) {
    if (values['no-subgroups']) throw new UsageError('--no-subgroups is for Node only: the page picks its kernels as users get them');
    report = await benchInBrowser(dir, label, options, { chromium: values.chromium, chromiumFlags: values['chromium-flag'] ?? [] });
  } else {
    const { gpu, release } = await commandGpu(lent, { subgroups: !values['no-subgroups'] });
    try {
      report = await measureBench(gpu, await openModel(await checkpointSources([dir])), label, `Node ${process.version} + Dawn`, options);
    } finally {
      release();
    }
  }
  console.log(benchTable(report));
  console.log(JSON.stringify(report));
  return 0;
}
