// The acceptance test of the engine: checkpoints written by HF transformers, run by `moescope trace` (tokenizer,
// loader, WGSL engine), compared with what transformers itself computed on the same files (reference.json):
// prompt token ids, logits and router logits at every prompt position, expert choices, the greedy continuation.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { closeCheckpoint } from '../../src/checkpoint/checkpoint.ts';
import { MoeEngine } from '../../src/engine/engine.ts';
import { openModel } from '../../src/model/openModel.ts';
import { checkpointSources } from '../../src/node/checkpointPaths.ts';
import { parseTrace } from '../../src/trace/traceFile.ts';
import { testGpu } from '../helpers/gpu.ts';
import { hfFixtures } from '../helpers/hfFixtures.ts';

const out = mkdtempSync(join(tmpdir(), 'moescope-hf-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

/** max |a − b| over all rows, relative to max |b| (logits differ in scale from model to model). */
function relativeError(actual: number[][], expected: number[][]): number {
  let diff = 0;
  let scale = 0;
  expected.forEach((row, i) =>
    row.forEach((v, j) => {
      diff = Math.max(diff, Math.abs((actual[i]?.[j] ?? NaN) - v) || (Number.isNaN(actual[i]?.[j]) ? Infinity : 0));
      scale = Math.max(scale, Math.abs(v));
    }),
  );
  return diff / scale;
}

/** Indices of the k largest entries, largest first. */
function topK(row: number[], k: number): number[] {
  return row.map((v, i) => [v, i] as const).sort((a, b) => b[0] - a[0]).slice(0, k).map(([, i]) => i);
}

/**
 * Generation steps comparable with transformers 5.17. Its PhiMoE drops the KV cache at the step that first
 * passes original_max_position_embeddings under longrope (prepare_inputs_for_generation), meaning to run the
 * sequence again with the long scale; its generic input slicing then feeds only the newest token, so that
 * token and every later one attend to nothing before it. MoEScope runs the whole sequence again, as intended,
 * and is compared up to that step only.
 */
function comparableSteps(dir: string, promptLength: number, steps: number): number {
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as { architectures?: string[]; rope_parameters?: { rope_type?: string; original_max_position_embeddings?: number } };
  const original = config.rope_parameters?.original_max_position_embeddings;
  if (config.architectures?.[0] !== 'PhimoeForCausalLM' || config.rope_parameters?.rope_type !== 'longrope' || original === undefined || original < promptLength) return steps;
  return Math.min(steps, original - promptLength + 1);
}

describe.each(hfFixtures())('$name: MoEScope equals HF transformers', ({ name, dir, reference }) => {
  it('same prompt ids, logits, router logits, expert choices and greedy tokens', async () => {
    const file = join(out, `${name.replace(/\W/g, '_')}.json`);
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    const err = vi.spyOn(console, 'error').mockImplementation(() => {});
    const code = await main(['trace', dir, '--prompt', reference.prompt, '--max-new-tokens', String(reference.greedy.length), '--logits', '--out', file], { gpu: await testGpu() });
    log.mockRestore();
    err.mockRestore();
    expect(code).toBe(0);
    const trace = parseTrace(readFileSync(file, 'utf8'));
    const n = reference.promptIds.length;
    expect(trace.tokens.slice(0, n).map((t) => t.id)).toEqual(reference.promptIds);

    const logitsError = relativeError(trace.logits!.slice(0, n), reference.logits);
    const moeLayers = Object.keys(reference.routerLogits).map(Number);
    expect(trace.model.moeLayers).toEqual(moeLayers);
    let routerError = 0;
    for (const layer of trace.layers) {
      // one routing row per processed token: the prompt, then each token fed back (also through a recomputed step)
      expect(layer.routerLogits, `${name} layer ${layer.layer} rows`).toHaveLength(n + reference.greedy.length - 1);
      const expected = reference.routerLogits[String(layer.layer)]!;
      routerError = Math.max(routerError, relativeError(layer.routerLogits.slice(0, n), expected));
      // The chosen experts, as sets per token (the rule is the architecture's; the ranking by raw logit is the
      // same for every rule but DeepSeek's biased one, which this fixture set checks through the logits).
      expected.forEach((row, t) => {
        if (trace.model.architecture !== 'DeepseekV3ForCausalLM') {
          expect([...layer.experts[t]!].sort(), `${name} layer ${layer.layer} token ${t}`).toEqual(topK(row, trace.model.topK).sort());
        }
      });
    }
    console.info(`${name}: transformers ${reference.transformers}; relative error logits ${logitsError.toExponential(1)}, router logits ${routerError.toExponential(1)}`);
    expect(logitsError).toBeLessThan(1e-4);
    expect(routerError).toBeLessThan(1e-4);
    const steps = comparableSteps(dir, n, reference.greedy.length);
    expect(trace.tokens.slice(n, n + steps).map((t) => t.id)).toEqual(reference.greedy.slice(0, steps));

    // the logits every generated token was chosen from, through the KV cache (and, for dynamic and
    // longrope RoPE, each step's own frequencies)
    if (reference.stepLogits) {
      const opened = await openModel(await checkpointSources([dir]));
      const engine = await MoeEngine.load(await testGpu(), opened, { maxPositions: n + reference.greedy.length });
      const result = await engine.generate({ promptIds: reference.promptIds, maxNewTokens: reference.greedy.length, eosTokenIds: [], stepLogits: true });
      engine.destroy();
      await closeCheckpoint(opened.checkpoint);
      const stepError = relativeError(result.stepLogits!.slice(0, steps), reference.stepLogits.slice(0, steps));
      console.info(`${name}: relative error of the logits of ${steps} of ${reference.stepLogits.length} generation steps ${stepError.toExponential(1)}`);
      expect(result.stepLogits).toHaveLength(reference.stepLogits.length);
      expect(stepError).toBeLessThan(1e-4);
    }
  });
});
