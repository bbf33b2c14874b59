// `npm run bench -- --browser` at the tiny shape (smoke, as test/gpu/bench.test.ts in Node): the bench page
// runs in headless Chromium's Web Worker, prints the table and JSON, and its greedy tokens are the plain-TS
// reference model's. `--app` drives the app page itself the same way. Timings are not asserted.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { benchPrompt } from '../../src/bench/measure.ts';
import { main } from '../../src/cli/main.ts';
import { openModel } from '../../src/model/openModel.ts';
import { checkpointSources } from '../../src/node/checkpointPaths.ts';
import { referenceGreedy } from '../../src/reference/model.ts';

/** Run the CLI with `args`: its exit code, and what it printed to stdout and stderr, a line per call. */
async function cli(args: string[]): Promise<{ code: number; lines: string[]; errors: string[] }> {
  const lines: string[] = [];
  const errors: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...a) => void lines.push(a.join(' ')));
  const err = vi.spyOn(console, 'error').mockImplementation((...a) => void errors.push(a.join(' ')));
  try {
    return { code: await main(args), lines, errors };
  } finally {
    log.mockRestore();
    err.mockRestore();
  }
}

describe('npm run bench -- --browser (smoke, tiny shape)', () => {
  it('times the engine in the page and decodes the reference model\'s tokens', async () => {
    const cache = join(tmpdir(), 'moescope-bench-browser-test');
    const { code, lines } = await cli(['bench', '--browser', '--shape', 'tiny', '--prompt-tokens', '48', '--new-tokens', '8', '--cache', cache]);
    expect(code).toBe(0);
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

  it('--app drives the app page itself: files picked, a prompt of ids run, every token shown', async () => {
    const cache = join(tmpdir(), 'moescope-bench-browser-test');
    const profileFile = join(cache, 'app.cpuprofile');
    rmSync(profileFile, { force: true });
    const { code, lines } = await cli(['bench', '--app', '--shape', 'tiny', '--decode-context', '12', '--new-tokens', '6', '--runs', '1', '--cache', cache, '--cpu-profile', profileFile]);
    expect(code).toBe(0);
    const out = lines.join('\n');
    console.info(out);
    for (const row of ['runtime', 'adapter', 'load \\(files picked → model card\\)', '1']) expect(out).toMatch(new RegExp(`^\\| ${row} \\| .+ \\|$`, 'm'));
    const report = JSON.parse(lines.at(-1)!);
    expect(report.pageErrors).toEqual([]);
    // the tiny checkpoint has no tokenizer: the prompt is 12 ids, and the strip ends with all 12 + 6 tokens
    expect(report.runs).toHaveLength(1);
    expect(report.runs[0]).toMatchObject({ tokensShown: 18, stoppedBy: 'limit' });
    expect(report.runs[0].lastShownMs).toBeGreaterThanOrEqual(report.runs[0].firstShownMs);
    expect(report.runs[0].pageTokS).toBeGreaterThan(0);
    // the page thread's profile of the run: written for DevTools, and its functions (unminified) listed
    const profile = JSON.parse(readFileSync(profileFile, 'utf8'));
    expect(profile.nodes.length).toBeGreaterThan(1);
    expect(profile.samples.length).toBeGreaterThan(0);
    expect(report.pageProfile.functions.length).toBeGreaterThan(0);
    expect(out).toMatch(/^\| function \| defined at \| total ms \| self ms \|$/m);
    // the views rendering the run's updates, under React's own (unminified) function name
    expect(report.pageProfile.functions.map((f: { name: string }) => f.name)).toContain('performWorkOnRoot');
  });

  it('a checkpoint the page cannot open fails with a typed error that names the file', async () => {
    const dir = join(tmpdir(), 'moescope-bench-browser-bad');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'config.json'), '{ "architectures": ["MixtralForCausalLM"], ');
    writeFileSync(join(dir, 'model.safetensors'), new Uint8Array(16));
    const { code, errors } = await cli(['bench', '--browser', '--model', dir, '--prompt-tokens', '8', '--new-tokens', '2']);
    expect(code).toBe(1);
    // the CLI prints the BrowserBenchError's message: the page's own typed error, naming the file
    expect(errors.join('\n')).toMatch(/bench page .* failed on .*moescope-bench-browser-bad: \w*Error: .*config\.json/);
  });
});
