// Headless Chromium (Debian's /usr/bin/chromium) with WebGPU on SwiftShader, driven by playwright-core.
// A fresh profile per launch; never a downloaded browser.

import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = process.env.MOESCOPE_CHROMIUM ?? '/usr/bin/chromium';
export const SCREENSHOT_DIR = 'test-results/screenshots';

const FLAGS = [
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

export interface BrowserSession {
  context: BrowserContext;
  page: Page;
  /** Console errors and uncaught exceptions the page produced. */
  pageErrors: string[];
  screenshot(name: string): Promise<string>;
  close(): Promise<void>;
}

export async function openBrowser(): Promise<BrowserSession> {
  const profile = mkdtempSync(join(tmpdir(), 'moescope-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
    viewport: { width: 1280, height: 800 },
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') pageErrors.push(m.text());
  });
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  return {
    context,
    page,
    pageErrors,
    async screenshot(name) {
      const path = join(SCREENSHOT_DIR, `${name}.png`);
      // Chromium's compositor lives in the GPU process: right after that process dies (the device-lost
      // test kills it) a capture can fail until the new one is up, so a failed capture is tried again.
      for (let attempt = 1; ; attempt++) {
        try {
          await page.screenshot({ path, fullPage: true });
          return path;
        } catch (e) {
          if (attempt >= 10 || !/Unable to capture screenshot/.test(String(e))) throw e;
          await page.waitForTimeout(1_000);
        }
      }
    },
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
