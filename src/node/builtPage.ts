// A page of this project, built and served on 127.0.0.1 for headless Chromium (`bench --browser`,
// `bench --app`): a prebuilt copy beside the bundled CLI (scripts/gpu-bundle.mjs) where there is one, else
// built now with Vite from the sources.

import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export class BrowserBenchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BrowserBenchError';
  }
}

/** The pages: each entry's HTML file and its prebuilt folder's name beside the bundled CLI. */
export const PAGES = {
  bench: { html: 'bench.html', prebuilt: 'bench-page' },
  app: { html: 'index.html', prebuilt: 'app-page' },
} as const;

export interface ServedPage {
  /** http://127.0.0.1:PORT/ */
  url: string;
  close(): void;
}

const CONTENT_TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.json': 'application/json', '.wasm': 'application/wasm' };

/** The built page's folder, without public/ (the demo model alone is 35 MB): prebuilt, else a fresh Vite build. */
async function builtPage(page: keyof typeof PAGES): Promise<{ dir: string; dispose(): void }> {
  const { html, prebuilt } = PAGES[page];
  const here = fileURLToPath(new URL('.', import.meta.url));
  const ready = join(here, prebuilt);
  if (existsSync(join(ready, html))) return { dir: ready, dispose: () => {} };
  const root = resolve(here, '../..');
  if (!existsSync(join(root, html))) throw new BrowserBenchError(`no prebuilt page at ${ready} and no ${html} at ${root} to build one`);
  const dir = mkdtempSync(join(tmpdir(), `moescope-${prebuilt}-`));
  const { build } = await import('vite');
  // unminified, so a CPU profile of the page (`bench --app --cpu-profile`) names its functions; gpu-bundle.mjs
  // prebuilds the pages the same way
  await build({ root, logLevel: 'warn', publicDir: false, build: { outDir: dir, emptyOutDir: true, minify: false, rollupOptions: { input: join(root, html) } } });
  return { dir, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Serve `page` on 127.0.0.1 (a free port); "/" is its HTML file. */
export async function servePage(page: keyof typeof PAGES): Promise<ServedPage> {
  const built = await builtPage(page);
  const { dir } = built;
  const server = http.createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '');
    const file = join(dir, path === '/' ? PAGES[page].html : path);
    if (!file.startsWith(dir) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file));
  });
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    close() {
      server.close();
      built.dispose();
    },
  };
}
