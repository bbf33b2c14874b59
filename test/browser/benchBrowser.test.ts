// `npm run bench -- --browser` at the tiny shape (smoke, as test/gpu/bench.test.ts in Node): the bench page
// runs in headless Chromium's Web Worker, prints the table and JSON, and its greedy tokens are the plain-TS
// reference model's. Timings are not asserted.
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { benchPrompt } from '../../src/bench/measure.ts';
import { main } from '../../src/cli/main.ts';
import { openModel } from '../../src/model/openModel.ts';
import { checkpointSources } from '../../src/node/checkpointPaths.ts';
import { referenceGreedy } from '../../src/reference/model.ts';

describe('npm run bench -- --browser (smoke, tiny shape)', () => {
  it('times the engine in the page and decodes the reference model\'s tokens', async () => {
    const cache = join(tmpdir(), 'moescope-bench-browser-test');
    const lines: string[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((...a) => void lines.push(a.join(' ')));
    const err = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      expect(await main(['bench', '--browser', '--shape', 'tiny', '--prompt-tokens', '48', '--new-tokens', '8', '--cache', cache])).toBe(0);
    } finally {
      log.mockRestore();
      err.mockRestore();
    }
    const out = lines.join('\n');
    console.info(out);
    for (const row of ['runtime', 'adapter', 'prefill', 'decode', 'GPU time per step']) expect(out).toMatch(new RegExp(`^\\| ${row} \\| .+ \\|$`, 'm'));
    const report = JSON.parse(lines.at(-1)!);
    expect(report).toMatchObject({ shape: 'tiny', prefillTokens: 48, decodeTokens: 7 });
    expect(report.runtime).toMatch(/Chrome\/\d+.*Web Worker/);
    expect(report.decodeTokS).toBeGreaterThan(0);
    const opened = await openModel(await checkpointSources([join(cache, 'tiny')]));
    expect(report.decodedIds).toEqual(await referenceGreedy(opened.spec, opened.weights, benchPrompt(opened.spec.vocabSize, 32), 8));
  });

  it('a checkpoint the page cannot open fails with a typed error that names the file', async () => {
    const dir = join(tmpdir(), 'moescope-bench-browser-bad');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'config.json'), '{ "architectures": ["MixtralForCausalLM"], ');
    writeFileSync(join(dir, 'model.safetensors'), new Uint8Array(16));
    const errors: string[] = [];
    const err = vi.spyOn(console, 'error').mockImplementation((...a) => void errors.push(a.join(' ')));
    try {
      expect(await main(['bench', '--browser', '--model', dir, '--prompt-tokens', '8', '--new-tokens', '2'])).toBe(1);
    } finally {
      err.mockRestore();
    }
    // the CLI prints the BrowserBenchError's message: the page's own typed error, naming the file
    expect(errors.join('\n')).toMatch(/bench page .* failed on .*moescope-bench-browser-bad: \w*Error: .*config\.json/);
  });
});
