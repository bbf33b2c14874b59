// `moescope bench --browser`: the benchmark in headless Chromium, as users run the engine (a Web Worker on
// the page's WebGPU, weights read from Files). Serves the bench page (bench.html) on 127.0.0.1, hands it
// the checkpoint's files through its file input (paths: Chromium reads them from disk, as a dropped
// folder) and waits for its report.
//
// The page: a prebuilt one beside the bundled CLI (`bench-page/`, scripts/gpu-bundle.mjs), else built now
// with Vite from the sources.

import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchOptions, BenchReport } from '../bench/measure.ts';
import { RESULT_GLOBAL, type BenchReply } from '../bench/benchProtocol.ts';
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

export class BrowserBenchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BrowserBenchError';
  }
}

const CONTENT_TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.json': 'application/json' };

/** The built page's folder: prebuilt beside this (bundled) module, else a fresh Vite build of bench.html. */
async function benchPage(): Promise<{ dir: string; dispose(): void }> {
  const here = fileURLToPath(new URL('.', import.meta.url));
  const prebuilt = join(here, 'bench-page');
  if (existsSync(join(prebuilt, 'bench.html'))) return { dir: prebuilt, dispose: () => {} };
  const root = resolve(here, '../..');
  if (!existsSync(join(root, 'bench.html'))) throw new BrowserBenchError(`no prebuilt bench page at ${prebuilt} and no bench.html at ${root} to build one`);
  const dir = mkdtempSync(join(tmpdir(), 'moescope-bench-page-'));
  const { build } = await import('vite');
  await build({ root, logLevel: 'warn', publicDir: false, build: { outDir: dir, emptyOutDir: true, rollupOptions: { input: join(root, 'bench.html') } } });
  return { dir, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

function serve(dir: string): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '');
    const file = join(dir, path === '/' ? 'bench.html' : path);
    if (!file.startsWith(dir) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file));
  });
  return new Promise((ready) => server.listen(0, '127.0.0.1', () => ready(server)));
}

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
  const files = readdirSync(checkpointDir)
    .map((name) => join(checkpointDir, name))
    .filter((path) => statSync(path).isFile());
  const page = await benchPage();
  const server = await serve(page.dir);
  let chromium: LaunchedChromium | null = null;
  try {
    chromium = await launchChromium({ executablePath: browserOptions.chromium, flags: [...BENCH_CHROMIUM_FLAGS, ...(browserOptions.chromiumFlags ?? [])] });
    const tab = chromium.context.pages()[0] ?? (await chromium.context.newPage());
    tab.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') console.error(`page ${m.type()}: ${m.text()}`);
    });
    tab.on('pageerror', (e) => console.error(`page error: ${e.message}`));
    const { port } = server.address() as AddressInfo;
    const query = new URLSearchParams({ options: JSON.stringify(options), label });
    await tab.goto(`http://127.0.0.1:${port}/bench.html?${query}`);
    await tab.locator('input[type=file]').setInputFiles(files);
    const handle = await tab.waitForFunction((name) => (window as unknown as Record<string, unknown>)[name], RESULT_GLOBAL, { timeout: browserOptions.timeoutMs ?? 30 * 60_000, polling: 500 });
    const reply = (await handle.jsonValue()) as BenchReply;
    if (reply.kind === 'error') throw new BrowserBenchError(`the bench page (${chromium.context.browser()?.version() ?? 'Chromium'}) failed on ${checkpointDir}: ${reply.message}`);
    return reply.report;
  } finally {
    await chromium?.close();
    server.close();
    page.dispose();
  }
}
