// "Load demo model": one click fetches the model shipped in public/models/, opens it in the worker, and the
// example prompts route differently by domain. The page's tokens equal HF transformers' greedy continuation
// (test/fixtures/demo-reference.json, written when the model was trained).
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ANALYSES, ANALYSIS_NAMES } from '../../src/analysis/catalog.ts';
import { DEMO_MODEL } from '../../src/browser/demoModel.ts';
import { parseTrace, type TraceFile } from '../../src/trace/traceFile.ts';
import { openBrowser, type BrowserSession } from '../helpers/browser.ts';
import { hfFixtures } from '../helpers/hfFixtures.ts';

let browser: BrowserSession;
const reference = hfFixtures().find((f) => f.name === 'demo model')!.reference;

beforeAll(async () => {
  browser = await openBrowser();
  await browser.page.goto(inject('appUrl'));
});
afterAll(async () => browser?.close());

async function runExample(domain: string, newTokens: number): Promise<TraceFile> {
  const { page } = browser;
  await page.getByTestId(`example-${domain}`).click();
  await page.getByLabel('new tokens').fill(String(newTokens));
  await page.getByTestId('run').click();
  await page.locator('[data-testid="stop"]:disabled').waitFor({ timeout: 120_000 });
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-json').click()]);
  return parseTrace(readFileSync((await download.path())!, 'utf8'));
}

/** Per MoE layer, each expert's share of the top-k assignments over the trace's tokens. */
function loads(trace: TraceFile): number[][] {
  return trace.layers.map((l) => {
    const counts = new Array<number>(trace.model.numExperts).fill(0);
    for (const row of l.experts) for (const e of row) counts[e]!++;
    return counts.map((c) => c / (l.experts.length * trace.model.topK));
  });
}

describe('the demo model', () => {
  it('loads with one click and runs like transformers; code and prose route differently', async () => {
    const { page } = browser;
    await page.getByTestId('load-demo').click();
    await page.getByTestId('model-card').waitFor({ timeout: 120_000 });
    expect(await page.locator('[data-field="architecture"]').textContent()).toBe('MixtralForCausalLM');
    expect(await page.locator('[data-field="experts"]').textContent()).toBe('16 routed · top-2');

    expect(DEMO_MODEL.examples['code']).toBe(reference.prompt);
    const code = await runExample('code', 8);
    expect(code.tokens.slice(0, code.promptLength).map((t) => t.id)).toEqual(reference.promptIds);
    expect(code.tokens.slice(code.promptLength).map((t) => t.id)).toEqual(reference.greedy.slice(0, 8));
    expect(await page.getByTestId('routing-heatmap').count()).toBe(6);
    await browser.screenshot('demo-code');

    const prose = await runExample('prose', 8);
    await browser.screenshot('demo-prose');
    // Total-variation distance between the two prompts' expert loads, averaged over layers: 0 = same routing.
    const a = loads(code);
    const b = loads(prose);
    const distance = a.reduce((sum, row, l) => sum + row.reduce((s, v, e) => s + Math.abs(v - b[l]![e]!), 0) / 2, 0) / a.length;
    console.info(`demo model: expert-load distance code vs prose ${distance.toFixed(2)} (0 = same, 1 = disjoint)`);
    expect(distance).toBeGreaterThan(0.3);
    expect(browser.pageErrors).toEqual([]);
  });

  it('opens every analysis panel on the demo model: each renders a plot and exports CSV', async () => {
    const { page } = browser;
    const panel = page.getByTestId('analysis-panel');
    await panel.scrollIntoViewIfNeeded();
    const timings: string[] = [];
    for (const name of ANALYSIS_NAMES) {
      const info = ANALYSES[name];
      await page.getByTestId('analysis-choice').selectOption(name);
      if (name === 'reordered-similarity') await page.getByTestId('analysis-experts').fill('0-3');
      if (info.texts > 0) await page.getByTestId('analysis-text').fill('def f(x):');
      if (info.texts === 2) await page.getByTestId('analysis-compare').fill('Der Mensch ist');
      expect(await page.getByTestId('analysis-explain').textContent(), name).toContain(info.explain.slice(0, 30));
      await page.getByTestId('analysis-run').click();
      const time = page.locator('[data-testid="analysis-time"]', { hasText: info.title });
      await time.or(page.getByTestId('analysis-error')).waitFor({ timeout: 120_000 });
      // allTextContents does not wait for an element: the message of an error, or nothing (a textContent()
      // here waited out Playwright's 30 s timeout for every analysis that succeeded)
      expect(await page.getByTestId('analysis-error').allTextContents(), name).toEqual([]);
      timings.push(`${name} ${(await time.textContent())!.match(/([\d.]+) s/)![1]} s`);
      const plots = (await panel.getByTestId('analysis-matrix').count()) + (await panel.getByTestId('analysis-scatter').count()) + (await panel.getByTestId('analysis-table').count());
      expect(plots, name).toBeGreaterThan(0);
      const [csv] = await Promise.all([page.waitForEvent('download'), page.getByTestId('analysis-csv').click()]);
      const lines = readFileSync((await csv.path())!, 'utf8').trim().split('\n');
      expect(lines[0]).toBe('layer,item,row,col,value');
      expect(lines.length, name).toBeGreaterThan(1);
      if (['reordered-similarity', 'neuron-pca', 'norm-score-ranks', 'domain-comparison'].includes(name)) await page.screenshot({ path: `test-results/screenshots/analysis-${name}.png`, fullPage: false });
    }
    console.info(`demo model, analyses in the page's worker (SwiftShader): ${timings.join(', ')}`);
    // the layer navigation of a one-layer analysis: the neuron PCA of the last MoE layer
    await page.getByTestId('analysis-choice').selectOption('neuron-pca');
    await page.getByTestId('analysis-layer-choice').selectOption('5');
    await page.getByTestId('analysis-run').click();
    await page.locator('[data-testid="analysis-layer"] option[value="0"]:text-is("5")').waitFor({ state: 'attached', timeout: 60_000 });
    expect(await panel.getByTestId('analysis-scatter').first().getAttribute('data-points')).toBe(String(16 * 192));
    expect(browser.pageErrors).toEqual([]);
  }, 900_000); // ~45 s on a 2-core CI machine (SwiftShader in Chromium), most of it the 14 analyses
});
