// `moescope bench --app`: the app page itself, driven as a user drives it, in headless Chromium. The
// checkpoint's files go in through its file input (as a picked folder); then a prompt runs with every
// view drawing. Reported: what the user waits for (files picked → model card, Run → last token shown),
// the decode tok/s the page prints, and what the page's thread spent meanwhile (long tasks, frames drawn).
// The engine's own speed in the same browser is `bench --browser`'s.

import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { benchPrompt } from '../bench/measure.ts';
import { BENCH_CHROMIUM_FLAGS, type BrowserBenchOptions } from './browserBench.ts';
import { BrowserBenchError, servePage } from './builtPage.ts';
import { checkpointFilePaths } from './checkpointPaths.ts';
import { launchChromium, type LaunchedChromium } from './chromium.ts';
import { timeByFunction, type CpuProfile, type FunctionTime } from './pageProfile.ts';

export interface AppTimingOptions {
  /** Prompt length in token ids, for a checkpoint without a tokenizer (one with gets a sentence). */
  promptTokens: number;
  newTokens: number;
  /** Runs of the prompt, one after another (the first compiles the engine's pipelines). */
  runs: number;
  /** Where to write a CPU profile of the page's thread during the last run (.cpuprofile; the profiler
   * slows that run a little), or undefined for none. */
  cpuProfile?: string | undefined;
}

export interface AppRunTiming {
  /** Run clicked → the first tokens shown, and → the last one shown (ms, the page's clock). */
  firstShownMs: number;
  lastShownMs: number;
  tokensShown: number;
  /** As the page prints it when the run is done ("… tok/s · stopped by …"). */
  pageTokS: number;
  stoppedBy: string;
  /** The page thread's tasks over 50 ms during the run: how many and their total ms. */
  longTasks: number;
  longTaskMs: number;
  /** Animation frames the page drew during the run, per second. */
  framesPerSecond: number;
}

export interface AppTimingReport {
  shape: string;
  runtime: string;
  adapter: string;
  fileBytes: number;
  loadSeconds: number;
  loadMBs: number;
  runs: AppRunTiming[];
  pageErrors: string[];
  /** With cpuProfile: the file, and the functions that took the page's thread the most time. */
  pageProfile?: { file: string; functions: FunctionTime[] };
}

/** Functions listed from a profile, in the report and its table. */
const PROFILE_FUNCTIONS = 20;

/** What the page records for the driver (RECORD_TIMINGS, installed before any of its scripts run). */
declare global {
  interface Window {
    moescopeTiming?: { longTasks: { start: number; ms: number }[]; frames: number[]; shown: { at: number; count: number }[] };
  }
}

// (a string, not a function: the page must get this source as written, without a bundler's helpers)
const RECORD_TIMINGS = `(() => {
  const timing = { longTasks: [], frames: [], shown: [] };
  window.moescopeTiming = timing;
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) timing.longTasks.push({ start: e.startTime, ms: e.duration });
  }).observe({ type: 'longtask', buffered: true });
  const frame = (t) => {
    timing.frames.push(t);
    requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
  // the token strip's data-count, each time React changes it
  new MutationObserver((changes) => {
    for (const c of changes) {
      if (c.target.getAttribute('data-testid') === 'token-stream') timing.shown.push({ at: performance.now(), count: Number(c.target.getAttribute('data-count')) });
    }
  }).observe(document, { subtree: true, attributes: true, attributeFilter: ['data-count'] });
})();`;

const mb = (bytes: number) => bytes / 1e6;

/** Time the app page on the checkpoint in `checkpointDir` (the engine's speed alone: benchInBrowser). */
export async function timeAppPage(checkpointDir: string, label: string, options: AppTimingOptions, browserOptions: BrowserBenchOptions = {}): Promise<AppTimingReport> {
  const files = await checkpointFilePaths([checkpointDir]);
  const fileBytes = files.reduce((n, f) => n + statSync(f).size, 0);
  const hasTokenizer = files.some((f) => f.endsWith('tokenizer.json'));
  const vocab = Number(JSON.parse(readFileSync(join(checkpointDir, 'config.json'), 'utf8')).vocab_size);
  const prompt = hasTokenizer ? 'The experts of a mixture of experts model route each token to a few of them' : benchPrompt(vocab, options.promptTokens).join(', ');
  const page = await servePage('app');
  let chromium: LaunchedChromium | null = null;
  const pageErrors: string[] = [];
  const timeout = browserOptions.timeoutMs ?? 30 * 60_000;
  try {
    chromium = await launchChromium({ executablePath: browserOptions.chromium, flags: [...BENCH_CHROMIUM_FLAGS, ...(browserOptions.chromiumFlags ?? [])], viewport: { width: 1400, height: 900 } });
    const tab = chromium.context.pages()[0] ?? (await chromium.context.newPage());
    tab.on('pageerror', (e) => pageErrors.push(e.message));
    tab.on('console', (m) => {
      if (m.type() === 'error') pageErrors.push(m.text());
    });
    await tab.addInitScript(RECORD_TIMINGS);
    await tab.goto(page.url);
    const adapter = (await tab.getByTestId('adapter-name').textContent({ timeout: 60_000 })) ?? '';

    const loadStart = performance.now();
    await tab.getByTestId('file-input').setInputFiles(files);
    await tab.getByTestId('model-card').or(tab.getByTestId('error')).first().waitFor({ timeout });
    if (await tab.getByTestId('error').count()) throw new BrowserBenchError(`the app page could not open ${checkpointDir}: ${await tab.getByTestId('error').innerText()}`);
    const loadSeconds = (performance.now() - loadStart) / 1000;

    await tab.getByTestId('prompt').fill(prompt);
    await tab.getByLabel('new tokens').fill(String(options.newTokens));
    const runs: AppRunTiming[] = [];
    let pageProfile: AppTimingReport['pageProfile'];
    for (let r = 0; r < options.runs; r++) {
      const profileFile = r === options.runs - 1 ? options.cpuProfile : undefined;
      const profiler = profileFile ? await chromium.context.newCDPSession(tab) : null;
      if (profiler) {
        await profiler.send('Profiler.enable');
        await profiler.send('Profiler.setSamplingInterval', { interval: 200 }); // µs
        await profiler.send('Profiler.start');
      }
      const clickedAt = await tab.evaluate(() => {
        const at = performance.now();
        document.querySelector<HTMLButtonElement>('[data-testid="run"]')!.click();
        return at;
      });
      await tab.locator('[data-testid="stop"]:disabled').waitFor({ timeout });
      if (profiler && profileFile) {
        const { profile } = await profiler.send('Profiler.stop');
        writeFileSync(profileFile, JSON.stringify(profile));
        pageProfile = { file: profileFile, functions: timeByFunction(profile as CpuProfile).slice(0, PROFILE_FUNCTIONS) };
        await profiler.detach();
      }
      const speed = (await tab.getByTestId('run-speed').textContent()) ?? '';
      const done = /([\d.]+) tok\/s · stopped by (\w+)/.exec(speed);
      if (!done) throw new BrowserBenchError(`the app page's run did not finish: "${speed}"${pageErrors.length ? `; page errors: ${pageErrors.join(' | ')}` : ''}`);
      const t = await tab.evaluate(() => window.moescopeTiming!);
      const shown = t.shown.filter((s) => s.at >= clickedAt && s.count > 0);
      const lastShownMs = (shown.at(-1)?.at ?? clickedAt) - clickedAt;
      const tasks = t.longTasks.filter((task) => task.start >= clickedAt && task.start <= clickedAt + lastShownMs);
      const frames = t.frames.filter((f) => f >= clickedAt && f <= clickedAt + lastShownMs).length;
      runs.push({
        firstShownMs: (shown[0]?.at ?? clickedAt) - clickedAt,
        lastShownMs,
        tokensShown: shown.at(-1)?.count ?? 0,
        pageTokS: Number(done[1]),
        stoppedBy: done[2]!,
        longTasks: tasks.length,
        longTaskMs: tasks.reduce((n, task) => n + task.ms, 0),
        framesPerSecond: lastShownMs > 0 ? frames / (lastShownMs / 1000) : 0,
      });
    }
    return { shape: label, runtime: `${chromium.context.browser()?.version() ?? 'Chromium'}, app page`, adapter, fileBytes, loadSeconds, loadMBs: mb(fileBytes) / loadSeconds, runs, pageErrors, ...(pageProfile ? { pageProfile } : {}) };
  } finally {
    await chromium?.close();
    page.close();
  }
}

/** The report as a markdown table, a row per run. */
export function appTimingTable(report: AppTimingReport): string {
  const head = [
    `| shape | ${report.shape} |`,
    '| --- | --- |',
    `| runtime | ${report.runtime} |`,
    `| adapter | ${report.adapter} |`,
    `| load (files picked → model card) | ${report.loadSeconds.toFixed(2)} s, ${report.loadMBs.toFixed(0)} MB/s of ${mb(report.fileBytes).toFixed(0)} MB |`,
    `| page errors | ${report.pageErrors.length ? report.pageErrors.join(' · ') : 'none'} |`,
  ];
  const runs = [
    '',
    '| run | Run → first tokens shown | → last shown | tokens shown | page prints | long tasks (> 50 ms) | frames/s |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...report.runs.map((r, i) => `| ${i + 1} | ${r.firstShownMs.toFixed(0)} ms | ${r.lastShownMs.toFixed(0)} ms | ${r.tokensShown} | ${r.pageTokS.toFixed(1)} tok/s, stopped by ${r.stoppedBy} | ${r.longTasks}, ${r.longTaskMs.toFixed(0)} ms | ${r.framesPerSecond.toFixed(1)} |`),
  ];
  const profile = report.pageProfile
    ? [
        '',
        `The page's thread during the last run, by function (profile: ${report.pageProfile.file}):`,
        '',
        '| function | defined at | total ms | self ms |',
        '| --- | --- | --- | --- |',
        ...report.pageProfile.functions.map((f) => `| ${f.name} | ${f.where || '–'} | ${f.totalMs.toFixed(0)} | ${f.selfMs.toFixed(0)} |`),
      ]
    : [];
  return [...head, ...runs, ...profile].join('\n');
}
