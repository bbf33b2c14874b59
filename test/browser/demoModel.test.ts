// "Load demo model": one click fetches the model shipped in public/models/, opens it in the worker, and the
// example prompts route differently by domain. The page's tokens equal HF transformers' greedy continuation
// (test/fixtures/demo-reference.json, written when the model was trained).
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
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
});
