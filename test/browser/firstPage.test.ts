import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { softmaxTopKReference } from '../../src/reference/softmaxTopK.ts';
import { openBrowser, type BrowserSession } from '../helpers/browser.ts';
import { maxAbsDiff } from '../helpers/compare.ts';
import { randomInt, randomLogits, seededRandom } from '../helpers/random.ts';

let browser: BrowserSession;

beforeAll(async () => {
  browser = await openBrowser();
  await browser.page.goto(inject('appUrl'));
});
afterAll(async () => browser?.close());

describe('the first page in headless Chromium', () => {
  it('renders with WebGPU available and shows the adapter name', async () => {
    const { page } = browser;
    expect(await page.evaluate(() => 'gpu' in navigator)).toBe(true);
    const adapter = page.getByTestId('adapter-name');
    await adapter.waitFor({ timeout: 60_000 });
    expect((await adapter.textContent())?.trim().length).toBeGreaterThan(0);
    await browser.screenshot('first-page');
    expect(browser.pageErrors).toEqual([]);
  });

  it('runs the softmax + top-k kernel in the page and matches the plain-TS reference', async () => {
    const rand = seededRandom(99);
    for (let i = 0; i < 6; i++) {
      const numExperts = [8, 60, 64, 256][randomInt(rand, 0, 3)] ?? 8;
      const shape = { numTokens: randomInt(rand, 1, 32), numExperts, topK: randomInt(rand, 1, 8), renormalize: rand() < 0.5 };
      const logits = randomLogits(rand, shape.numTokens * numExperts);
      const got = await browser.page.evaluate(
        ([l, s]) => window.moescope.softmaxTopK(l, s),
        [Array.from(logits), shape] as const,
      );
      const want = softmaxTopKReference(logits, shape);
      expect(maxAbsDiff(got.probs, want.probs).max, JSON.stringify(shape)).toBeLessThan(2e-6);
      expect(maxAbsDiff(got.weights, want.weights).max, JSON.stringify(shape)).toBeLessThan(2e-6);
      expect(got.expertIds).toEqual(Array.from(want.expertIds));
    }
  });

  it('passes its GPU self-test when the user clicks it', async () => {
    const { page } = browser;
    await page.getByTestId('run-selftest').click();
    const result = page.getByTestId('selftest-result');
    await result.waitFor({ timeout: 60_000 });
    expect(await result.textContent()).toMatch(/^Passed: .* 0 expert choices differ/);
    await browser.screenshot('gpu-self-test');
  });
});
