// Headless Chromium (Debian's /usr/bin/chromium) with WebGPU on SwiftShader, driven by playwright-core.
// A fresh profile per launch; never a downloaded browser.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { launchChromium } from '../../src/node/chromium.ts';

export const SCREENSHOT_DIR = 'test-results/screenshots';

export interface BrowserSession {
  context: BrowserContext;
  page: Page;
  /** Console errors and uncaught exceptions the page produced. */
  pageErrors: string[];
  screenshot(name: string): Promise<string>;
  close(): Promise<void>;
}

export async function openBrowser(): Promise<BrowserSession> {
  const chromium = await launchChromium({ viewport: { width: 1280, height: 800 } });
  const { context } = chromium;
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
    close: () => chromium.close(),
  };
}
