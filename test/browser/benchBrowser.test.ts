// `npm run bench -- --browser` at the tiny shape (smoke, as test/gpu/bench.test.ts in Node): the bench page
// runs in headless Chromium's Web Worker, prints the table and JSON, and its greedy tokens are the plain-TS
// reference model's. Timings are not asserted.
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
});
