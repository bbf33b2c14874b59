// `moescope bench --browser`: the benchmark in headless Chromium, as users run the engine (a Web Worker on
// the page's WebGPU, weights read from Files). Serves the bench page (bench.html) on 127.0.0.1, hands it
// the checkpoint's files through its file input (paths: Chromium reads them from disk, as a dropped
// folder) and waits for its report.
//
// The page: src/node/builtPage.ts.

import type { BenchOptions, BenchReport } from '../bench/measure.ts';
import { RESULT_GLOBAL, type BenchReply } from '../bench/benchProtocol.ts';
import { BrowserBenchError, servePage } from './builtPage.ts';
import { checkpointFilePaths } from './checkpointPaths.ts';
import { launchChromium, type LaunchedChromium } from './chromium.ts';

/**
 * Flags for a real GPU, harmless on SwiftShader: WebGPU on Vulkan without a display, and exact timestamps
 * (`--enable-webgpu-developer-features`; Chromium rounds them to 100 µs otherwise) for the GPU time per
 * step. On the NVIDIA hosts (H100, driver 580, no display), Chromium 150's own Vulkan instance fails
 * (VK_ERROR_EXTENSION_NOT_PRESENT: it asks for a surface extension) unless `--disable-vulkan-surface`,
 * and then WebGPU offers no adapter at all unless compositing is off too (`--disable-gpu-compositing`);
 * with both, the page gets the NVIDIA adapter.
 */
export const BENCH_CHROMIUM_FLAGS = ['--enable-features=Vulkan', '--use-angle=vulkan', '--disable-vulkan-surface', '--disable-gpu-compositing', '--ignore-gpu-blocklist', '--enable-webgpu-developer-features'];

export interface BrowserBenchOptions {
  /** Chromium to run (default: MOESCOPE_CHROMIUM or /usr/bin/chromium). */
  chromium?: string | undefined;
  /** More Chromium flags, after BENCH_CHROMIUM_FLAGS. */
  chromiumFlags?: readonly string[];
  /** How long the page may take, ms (load, compile and timing together). */
  timeoutMs?: number;
}

/** Time the checkpoint in `checkpointDir` in headless Chromium; the report as Node's bench gives it. */
export async function benchInBrowser(checkpointDir: string, label: string, options: BenchOptions, browserOptions: BrowserBenchOptions = {}): Promise<BenchReport> {
  const files = await checkpointFilePaths([checkpointDir]);
  const page = await servePage('bench');
  let chromium: LaunchedChromium | null = null;
  try {
    chromium = await launchChromium({ executablePath: browserOptions.chromium, flags: [...BENCH_CHROMIUM_FLAGS, ...(browserOptions.chromiumFlags ?? [])] });
    const tab = chromium.context.pages()[0] ?? (await chromium.context.newPage());
    tab.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') console.error(`page ${m.type()}: ${m.text()}`);
    });
    tab.on('pageerror', (e) => console.error(`page error: ${e.message}`));
    const query = new URLSearchParams({ options: JSON.stringify(options), label });
    await tab.goto(`${page.url}bench.html?${query}`);
    await tab.locator('input[type=file]').setInputFiles(files);
    const handle = await tab.waitForFunction((name) => (window as unknown as Record<string, unknown>)[name], RESULT_GLOBAL, { timeout: browserOptions.timeoutMs ?? 30 * 60_000, polling: 500 });
    const reply = (await handle.jsonValue()) as BenchReply;
    if (reply.kind === 'error') throw new BrowserBenchError(`the bench page (${chromium.context.browser()?.version() ?? 'Chromium'}) failed on ${checkpointDir}: ${reply.message}`);
    return reply.report;
  } finally {
    await chromium?.close();
    page.close();
  }
}
