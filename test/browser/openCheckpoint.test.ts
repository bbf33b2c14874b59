// Dropping checkpoint folders on the page: every architecture opens in the engine worker and shows its
// model card; a corrupt file shows a typed error; the page recovers without a reload.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { ByteSource } from '../../src/checkpoint/byteSource.ts';
import { checkpointSources } from '../../src/node/checkpointPaths.ts';
import { hfFixtures } from '../helpers/hfFixtures.ts';
import { openBrowser, type BrowserSession } from '../helpers/browser.ts';
import { buildCheckpoint, SYNTHETIC } from '../helpers/syntheticCheckpoints.ts';

let browser: BrowserSession;

beforeAll(async () => {
  browser = await openBrowser();
  await browser.page.goto(inject('appUrl'));
});
afterAll(async () => browser?.close());

async function payload(files: ByteSource[]) {
  return Promise.all(files.map(async (f) => ({ name: f.name, base64: Buffer.from(await f.read(0, f.size)).toString('base64') })));
}

/** A real drop event on the drop zone, carrying the files in a DataTransfer. */
async function drop(files: ByteSource[]): Promise<void> {
  const data = await payload(files);
  const transfer = await browser.page.evaluateHandle((items) => {
    const dt = new DataTransfer();
    for (const { name, base64 } of items) {
      const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
      dt.items.add(new File([bytes], name));
    }
    return dt;
  }, data);
  await browser.page.getByTestId('drop-zone').dispatchEvent('drop', { dataTransfer: transfer });
}

async function cardField(field: string): Promise<string> {
  const card = browser.page.getByTestId('model-card');
  await card.waitFor({ timeout: 30_000 });
  return (await card.locator(`[data-field="${field}"]`).textContent()) ?? '';
}

describe('opening a checkpoint in the page', () => {
  it('a corrupt weight file shows what is wrong, then a good folder opens', async () => {
    const files = buildCheckpoint(SYNTHETIC['MixtralForCausalLM']!).map((f) => (f.name === 'model.safetensors' ? { ...f, size: f.size - 3 } : f));
    await drop(files);
    const error = browser.page.getByTestId('error');
    await error.waitFor({ timeout: 30_000 });
    expect(await error.textContent()).toMatch(/model\.safetensors: not a valid safetensors file: tensors end at byte \d+ but the file has \d+ bytes/);
    expect(await error.textContent()).toMatch(/\(SafetensorsFormatError\)/);
    await browser.screenshot('open-corrupt-checkpoint');

    await drop(buildCheckpoint(SYNTHETIC['MixtralForCausalLM']!));
    await browser.page.getByTestId('model-card').waitFor();
    expect(await cardField('architecture')).toBe('MixtralForCausalLM');
    expect(await browser.page.getByTestId('error').count()).toBe(0);
    await browser.screenshot('open-mixtral');
  });

  for (const [architecture, model] of Object.entries(SYNTHETIC)) {
    it(`${architecture}: dropped folder → model card`, async () => {
      await drop(buildCheckpoint(model, { extraFiles: { 'README.md': '# model' } }));
      await browser.page.locator(`[data-field="architecture"]:text-is("${architecture}")`).waitFor({ timeout: 30_000 });
      expect(await cardField('experts')).toBe(`${model.expect.numExperts} routed · top-${model.expect.topK}`);
      expect(await cardField('ignored')).toBe('README.md');
    });
  }

  for (const { name, dir, reference } of hfFixtures().filter((f) => f.name !== 'demo model')) {
    it(`${name}: the folder transformers wrote → model card`, async () => {
      await drop(await checkpointSources([dir]));
      await browser.page.locator(`[data-field="architecture"]:text-is("${reference.architecture}")`).waitFor({ timeout: 30_000 });
      expect(await cardField('ignored')).toBe('reference.json');
      expect(await browser.page.getByTestId('error').count()).toBe(0);
    });
  }

  it('sharded weights picked with the file input', async () => {
    const files = buildCheckpoint(SYNTHETIC['Qwen3MoeForCausalLM']!, { shards: 2 });
    await browser.page.getByTestId('file-input').setInputFiles(
      await Promise.all(files.map(async (f) => ({ name: f.name, mimeType: 'application/octet-stream', buffer: Buffer.from(await f.read(0, f.size)) }))),
    );
    await browser.page.locator('[data-field="architecture"]:text-is("Qwen3MoeForCausalLM")').waitFor({ timeout: 30_000 });
    expect(await cardField('weights')).toMatch(/in 2 files$/);
    expect(browser.pageErrors).toEqual([]);
  });

  it('the engine worker crashes: the page says so, keeps the trace, and a new drop runs again', async () => {
    const { page } = browser;
    const mixtral = hfFixtures().find((f) => f.name === 'MixtralForCausalLM')!;
    await drop(await checkpointSources([mixtral.dir]));
    await page.locator('[data-field="architecture"]:text-is("MixtralForCausalLM")').waitFor({ timeout: 30_000 });
    await page.getByTestId('prompt').fill(mixtral.reference.prompt);
    await page.getByLabel('new tokens').fill('4');
    await page.getByTestId('run').click();
    await page.locator('[data-testid="stop"]:disabled').waitFor({ timeout: 60_000 });
    const tokensBefore = await page.getByTestId('routing-heatmap').first().getAttribute('data-tokens');

    // an uncaught exception inside the worker: what a crash of the engine looks like to the page
    const worker = page.workers().find((w) => w.url().includes('engineWorker'))!;
    expect(worker).toBeDefined();
    await worker.evaluate(() => setTimeout(() => { throw new Error('simulated engine crash'); }));
    const error = page.getByTestId('error');
    await error.waitFor({ timeout: 30_000 });
    expect(await error.textContent()).toMatch(/The engine stopped.*the engine worker crashed.*load the model again.*\(WorkerCrashed\)/s);
    expect(await page.getByTestId('routing-heatmap').first().getAttribute('data-tokens')).toBe(tokensBefore); // the trace stays
    await browser.screenshot('worker-crashed');

    // recovery without a reload: a new worker opens the folder and runs the prompt
    await drop(await checkpointSources([mixtral.dir]));
    await page.getByTestId('model-card').waitFor({ timeout: 30_000 });
    await page.getByTestId('run').click();
    await page.locator('[data-testid="stop"]:disabled').waitFor({ timeout: 60_000 });
    expect(await page.getByTestId('routing-heatmap').first().getAttribute('data-tokens')).toBe(tokensBefore); // same prompt, same greedy run
    expect(await page.getByTestId('error').count()).toBe(0);
  });

  it('the GPU process dies (device lost): the page says so, and loading again runs again', async () => {
    const { page, context } = browser;
    const mixtral = hfFixtures().find((f) => f.name === 'MixtralForCausalLM')!;
    await drop(await checkpointSources([mixtral.dir]));
    await page.getByTestId('model-card').waitFor({ timeout: 30_000 });
    // DevTools' Browser.crashGpuProcess kills Chromium's GPU process: every WebGPU device is lost
    await (await context.newCDPSession(page)).send('Browser.crashGpuProcess');
    const error = page.getByTestId('error');
    await error.waitFor({ timeout: 60_000 });
    expect(await error.textContent()).toMatch(/The GPU was lost.*load the model again.*\(DeviceLost\)/s);
    await browser.screenshot('device-lost');

    await drop(await checkpointSources([mixtral.dir]));
    await page.getByTestId('model-card').waitFor({ timeout: 60_000 });
    await page.getByTestId('run').click();
    await page.locator('[data-testid="stop"]:disabled').waitFor({ timeout: 60_000 });
    expect(Number(await page.getByTestId('routing-heatmap').first().getAttribute('data-tokens'))).toBeGreaterThan(0);
    expect(await page.getByTestId('error').count()).toBe(0);
  });
});
