// Smoothness at the size the page promises: a trace of 2,048 tokens × 64 experts × 24 MoE layers (an
// OLMoE-like model routing a long text), imported as a file. A benchmark more than a test: it prints how
// long the views take to appear and the frame intervals while the pointer sweeps the large heatmap (the
// tooltip follows it); it asserts only that everything renders.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { TRACE_FORMAT, type TraceFile } from '../../src/trace/traceFile.ts';
import { seededRandom } from '../../src/util/random.ts';
import { openBrowser, type BrowserSession } from '../helpers/browser.ts';

const [T, E, L, K] = [2048, 64, 24, 8];
let browser: BrowserSession;

beforeAll(async () => {
  browser = await openBrowser();
  await browser.page.goto(inject('appUrl'));
});
afterAll(async () => browser?.close());

function bigTrace(): TraceFile {
  const random = seededRandom(7);
  const round = (x: number) => Math.round(x * 1000) / 1000;
  return {
    format: TRACE_FORMAT,
    model: { architecture: 'OlmoeForCausalLM', numLayers: L, numExperts: E, topK: K, moeLayers: Array.from({ length: L }, (_, l) => l) },
    tokens: Array.from({ length: T }, (_, t) => ({ id: t % 5000, text: ` tok${t}` })),
    promptLength: T - 64,
    layers: Array.from({ length: L }, (_, layer) => {
      const routerLogits = Array.from({ length: T }, () => Array.from({ length: E }, () => round(4 * random() - 2)));
      const experts = routerLogits.map((row) => row.map((v, e) => [v, e] as const).sort((a, b) => b[0] - a[0]).slice(0, K).map(([, e]) => e));
      const weights = experts.map(() => Array.from({ length: K }, () => round(1 / K)));
      return { layer, routerLogits, experts, weights };
    }),
  };
}

describe('a 2,048-token × 64-expert × 24-layer trace', () => {
  it('imports, draws every view, and hovering the large heatmap keeps frames coming', async () => {
    const { page } = browser;
    const trace = bigTrace();
    const json = Buffer.from(JSON.stringify(trace));
    const started = performance.now();
    await page.getByTestId('import-json').setInputFiles({ name: 'big-trace.json', mimeType: 'application/json', buffer: json });
    await page.locator(`[data-testid="routing-heatmap"][data-layer="${L - 1}"][data-tokens="${T}"]`).waitFor({ timeout: 120_000 });
    await page.getByTestId('routing-paths').waitFor();
    const importSeconds = (performance.now() - started) / 1000;
    expect(await page.getByTestId('routing-heatmap').count()).toBe(L);
    // the token stream and strip render in chunks of 256 tokens: every token, in order
    expect(await page.getByTestId('token-stream').textContent()).toBe(trace.tokens.map((t) => t.text).join(''));
    expect(await page.locator('[data-testid="token-strip"] button').count()).toBe(T);
    expect(await page.locator('[data-testid="token-strip"] button').nth(T - 1).textContent()).toBe(` tok${T - 1}`);

    const focus = page.getByTestId('routing-heatmap-focus');
    await focus.scrollIntoViewIfNeeded();
    const box = (await focus.boundingBox())!;
    // one pointer move per animation frame across the heatmap; the intervals between frames, in ms
    const frames = await page.evaluate(async ({ x, y, width, height }) => {
      const canvas = document.querySelector('[data-testid="routing-heatmap-focus"]')!;
      const intervals: number[] = [];
      let last = await new Promise<number>((r) => requestAnimationFrame(r));
      for (let i = 0; i < 120; i++) {
        const px = x + ((i * 37) % 100) / 100 * width;
        const py = y + Math.min(height - 1, (i / 120) * Math.min(height, 800));
        canvas.dispatchEvent(new MouseEvent('mousemove', { clientX: px, clientY: py, bubbles: true }));
        const now = await new Promise<number>((r) => requestAnimationFrame(r));
        intervals.push(now - last);
        last = now;
      }
      return intervals.sort((a, b) => a - b);
    }, box);
    await page.getByTestId('heatmap-tooltip').waitFor();
    const at = (q: number) => frames[Math.min(frames.length - 1, Math.floor(q * frames.length))]!;
    console.info(
      `large trace (${T} tokens × ${E} experts × ${L} layers, ${(json.length / 1e6).toFixed(1)} MB JSON): views drawn ${importSeconds.toFixed(1)} s after import; ` +
        `hover frame interval median ${at(0.5).toFixed(1)} ms, p95 ${at(0.95).toFixed(1)} ms, max ${frames.at(-1)!.toFixed(1)} ms`,
    );
    await page.screenshot({ path: 'test-results/screenshots/large-trace.png' });
    expect(browser.pageErrors).toEqual([]);
  }, 300_000);
});
