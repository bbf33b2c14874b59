// The page end to end: drop a random-weight checkpoint with a tokenizer, run a prompt in the engine
// worker, watch the heatmaps fill, export the trace and compare it with the engine run from Node on the
// same checkpoint; then import the trace into a fresh page with no model.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { ByteSource } from '../../src/checkpoint/byteSource.ts';
import { MoeEngine } from '../../src/engine/engine.ts';
import { openModel } from '../../src/model/openModel.ts';
import { analysisCsv } from '../../src/analysis/result.ts';
import { runAnalysis } from '../../src/analysis/runAnalysis.ts';
import { loadTokenizer } from '../../src/tokenizer/tokenizer.ts';
import { buildTrace, parseTrace, type TraceFile } from '../../src/trace/traceFile.ts';
import { openBrowser, type BrowserSession } from '../helpers/browser.ts';
import { testGpu } from '../helpers/gpu.ts';
import { relativeError } from '../helpers/gpuData.ts';
import { buildCheckpoint, SYNTHETIC } from '../helpers/syntheticCheckpoints.ts';
import { TOKENIZER_CONFIG, TOKENIZER_JSON } from '../helpers/tinyTokenizer.ts';

let browser: BrowserSession;
const files = buildCheckpoint(SYNTHETIC['Qwen2MoeForCausalLM']!, {
  randomSeed: 5,
  extraFiles: { 'tokenizer.json': TOKENIZER_JSON, 'tokenizer_config.json': TOKENIZER_CONFIG },
});
const PROMPT = 'ab c abc';
const NEW_TOKENS = 5;

beforeAll(async () => {
  browser = await openBrowser();
  await browser.page.goto(inject('appUrl'));
});
afterAll(async () => browser?.close());

async function pick(testId: string, sources: ByteSource[]) {
  await browser.page.getByTestId(testId).setInputFiles(
    await Promise.all(sources.map(async (f) => ({ name: f.name, mimeType: 'application/octet-stream', buffer: Buffer.from(await f.read(0, f.size)) }))),
  );
}

async function nodeTrace(): Promise<TraceFile> {
  const opened = await openModel(files);
  const tokenizer = loadTokenizer(opened.checkpoint.text)!;
  const engine = await MoeEngine.load(await testGpu(), opened, { maxPositions: 64 });
  try {
    const result = await engine.generate({ promptIds: tokenizer.encode(PROMPT), maxNewTokens: NEW_TOKENS });
    return buildTrace(opened.spec, result, (id) => tokenizer.tokenText(id));
  } finally {
    engine.destroy();
  }
}

describe('running a prompt in the page', () => {
  it('streams tokens and fills one heatmap per MoE layer; the export equals the Node engine’s trace', async () => {
    const { page } = browser;
    await pick('file-input', files);
    await page.getByTestId('model-card').waitFor({ timeout: 60_000 });
    expect(await page.locator('[data-field="gpu"]').textContent()).toMatch(/[KM]iB of weights on /);
    await page.getByTestId('prompt').fill(PROMPT);
    await page.getByLabel('new tokens').fill(String(NEW_TOKENS));
    await page.getByTestId('run').click();
    const total = 4 + NEW_TOKENS; // <s> ab c abc, then the new tokens
    await page.locator(`[data-testid="token-stream"][data-count="${total}"]`).waitFor({ timeout: 60_000 });
    await page.locator('[data-testid="stop"]:disabled').waitFor();

    const heatmaps = page.getByTestId('routing-heatmap');
    expect(await heatmaps.count()).toBe(1); // Qwen2-MoE fixture: layer 0 dense, layer 1 sparse
    expect(await heatmaps.first().getAttribute('data-layer')).toBe('1');
    expect(await heatmaps.first().getAttribute('data-tokens')).toBe(String(total - 1));
    expect(await heatmaps.first().getAttribute('data-experts')).toBe('4');

    const focus = page.getByTestId('routing-heatmap-focus');
    const box = (await focus.boundingBox())!;
    await focus.hover({ position: { x: box.width * 0.3, y: 3 } }); // scrolls it into view first
    expect(await page.getByTestId('heatmap-tooltip').textContent()).toMatch(/#0 “<s>” \(prompt\).*chosen:/);
    await browser.screenshot('run-heatmaps');

    // token strip, expert load and routing paths follow the same rows
    expect(await page.locator('[data-testid="token-strip"] button').count()).toBe(total - 1);
    expect(await page.locator('[data-testid="expert-load"] tbody tr').count()).toBe(1);
    const paths = page.getByTestId('routing-paths');
    expect(Number(await paths.getAttribute('data-segments'))).toBe(0); // one MoE layer: no layer-to-layer segments
    await page.locator('[data-testid="token-strip"] button').nth(2).click();
    expect(await page.locator('[data-testid="token-strip"] button.selected').count()).toBe(1);

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-json').click()]);
    const exported = parseTrace(readFileSync((await download.path())!, 'utf8'));
    const cli = await nodeTrace();
    expect(exported.model).toEqual(cli.model);
    expect(exported.tokens).toEqual(cli.tokens);
    expect(exported.promptLength).toBe(cli.promptLength);
    for (const [i, layer] of exported.layers.entries()) {
      const want = cli.layers[i]!;
      expect(layer.layer).toBe(want.layer);
      expect(layer.experts).toEqual(want.experts);
      expect(relativeError(layer.weights.flat(), want.weights.flat())).toBeLessThan(1e-5);
      expect(relativeError(layer.routerLogits.flat(), want.routerLogits.flat())).toBeLessThan(1e-5);
    }
    expect(browser.pageErrors).toEqual([]);
  });

  it('every view on a model with several MoE layers, and PNG export', async () => {
    const { page } = browser;
    const mixtral = buildCheckpoint(SYNTHETIC['MixtralForCausalLM']!, { randomSeed: 9, extraFiles: { 'tokenizer.json': TOKENIZER_JSON, 'tokenizer_config.json': TOKENIZER_CONFIG } });
    await pick('file-input', mixtral);
    await page.locator('[data-field="architecture"]:text-is("MixtralForCausalLM")').waitFor({ timeout: 60_000 });
    await page.getByTestId('prompt').fill('ab c abc ab ab c');
    await page.getByLabel('new tokens').fill('12');
    await page.getByTestId('run').click();
    await page.locator('[data-testid="stop"]:disabled').waitFor({ timeout: 60_000 });
    const heatmaps = page.getByTestId('routing-heatmap');
    expect(await heatmaps.count()).toBe(2);
    const rows = Number(await heatmaps.first().getAttribute('data-tokens'));
    // 2 MoE layers → 1 transition, top-2 × top-2 segments per token
    expect(Number(await page.getByTestId('routing-paths').getAttribute('data-segments'))).toBe(rows * 4);
    expect(await page.locator('[data-testid="expert-load"] tbody tr').count()).toBe(2);
    expect(await page.getByTestId('coactivation').getAttribute('data-experts')).toBe('4');
    const [png] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-png').click()]);
    expect(readFileSync((await png.path())!).subarray(1, 4).toString()).toBe('PNG');
    // weight analyses in the worker: the CSV equals the Node computation on the same files
    await page.getByTestId('analysis-run').click();
    await page.getByTestId('analysis-stats').waitFor({ timeout: 60_000 });
    expect(await page.getByTestId('analysis-matrix').count()).toBe(4); // gate, up, down, router
    const [csv] = await Promise.all([page.waitForEvent('download'), page.getByTestId('analysis-csv').click()]);
    const pageRows = readFileSync((await csv.path())!, 'utf8').trim().split('\n');
    const node = await runAnalysis({ model: await openModel(mixtral), engine: null, gpu: null, tokenText: String }, { analysis: 'router-similarity' });
    const nodeRows = analysisCsv(node.layers).trim().split('\n');
    expect(pageRows.length).toBe(nodeRows.length);
    pageRows.slice(1).forEach((row, i) => {
      const [a, b] = [row.split(','), nodeRows[i + 1]!.split(',')];
      expect(a.slice(0, 4)).toEqual(b.slice(0, 4));
      expect(Math.abs(Number(a[4]) - Number(b[4]))).toBeLessThan(1e-12);
    });
    await page.getByTestId('analysis-panel').scrollIntoViewIfNeeded();
    await page.screenshot({ path: 'test-results/screenshots/views-analysis.png' });

    await page.getByTestId('routing-heatmap').first().scrollIntoViewIfNeeded();
    await browser.screenshot('views-heatmaps');
    expect(await page.locator('[data-testid="routing-paths"] canvas').count()).toBe(1);
    await page.getByTestId('routing-paths').scrollIntoViewIfNeeded();
    await page.waitForTimeout(600);
    await page.screenshot({ path: 'test-results/screenshots/views-paths.png' });
    await page.getByTestId('expert-load').scrollIntoViewIfNeeded();
    await page.screenshot({ path: 'test-results/screenshots/views-load.png' });
    expect(browser.pageErrors).toEqual([]);
  });

  it('an imported trace shows its heatmaps without any model', async () => {
    const fresh = await openBrowser();
    try {
      await fresh.page.goto(inject('appUrl'));
      const trace = await nodeTrace();
      await fresh.page.getByTestId('import-json').setInputFiles({ name: 'shared.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(trace)) });
      const heatmap = fresh.page.getByTestId('routing-heatmap').first();
      await heatmap.waitFor({ timeout: 30_000 });
      expect(await heatmap.getAttribute('data-tokens')).toBe(String(trace.layers[0]!.experts.length));
      expect(await fresh.page.getByTestId('token-stream').textContent()).toContain('abc');
      await fresh.screenshot('imported-trace');
    } finally {
      await fresh.close();
    }
  });
});
