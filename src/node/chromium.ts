// Headless Chromium with WebGPU, as the browser tests and `moescope bench --browser` open it: Debian's
// /usr/bin/chromium (MOESCOPE_CHROMIUM or --chromium for another), driven by playwright-core, a fresh
// profile per launch; never a downloaded browser. Without a GPU, WebGPU runs on SwiftShader.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext } from 'playwright-core';

export const CHROMIUM = process.env.MOESCOPE_CHROMIUM ?? '/usr/bin/chromium';

/** What every launch passes: headless, WebGPU on, nothing that reaches the network. */
export const HEADLESS_WEBGPU_FLAGS = [
  '--headless=new',
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--disable-gpu-sandbox',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
];

export interface LaunchedChromium {
  context: BrowserContext;
  close(): Promise<void>;
}

export async function launchChromium(options: { executablePath?: string | undefined; flags?: readonly string[]; viewport?: { width: number; height: number } } = {}): Promise<LaunchedChromium> {
  // imported here, not at the top: only the commands that open a browser need playwright-core
  const { chromium } = await import('playwright-core');
  const profile = mkdtempSync(join(tmpdir(), 'moescope-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: options.executablePath ?? CHROMIUM,
    headless: true,
    args: [...HEADLESS_WEBGPU_FLAGS, ...(options.flags ?? [])],
    ...(options.viewport ? { viewport: options.viewport } : {}),
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
