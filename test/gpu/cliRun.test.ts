// npx moescope trace / generate on a random-weight checkpoint folder written to disk.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { openModel } from '../../src/model/openModel.ts';
import { referenceForward } from '../../src/reference/model.ts';
import { softmaxTopKReference } from '../../src/reference/softmaxTopK.ts';
import { parseTrace } from '../../src/trace/traceFile.ts';
import { testGpu } from '../helpers/gpu.ts';
import { buildCheckpoint, SYNTHETIC } from '../helpers/syntheticCheckpoints.ts';

const dir = mkdtempSync(join(tmpdir(), 'moescope-run-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const files = buildCheckpoint(SYNTHETIC['OlmoeForCausalLM']!, { randomSeed: 3 });
const folder = join(dir, 'olmoe');

/** Runs a command on the tests' GPU (lent: its pipelines are compiled once), or on its own with `ownGpu`. */
async function capture(args: string[], ownGpu = false) {
  const out: string[] = [];
  const spies = [
    vi.spyOn(console, 'log').mockImplementation((...a) => void out.push(a.join(' '))),
    vi.spyOn(console, 'error').mockImplementation((...a) => void out.push(a.join(' '))),
    vi.spyOn(process.stdout, 'write').mockImplementation((s) => (out.push(String(s)), true)),
  ];
  try {
    return { code: await main(args, ownGpu ? {} : { gpu: await testGpu() }), out: out.join('\n') };
  } finally {
    for (const s of spies) s.mockRestore();
  }
}

describe('moescope trace and generate', () => {
  it('trace writes moescope.trace/1 with the reference model’s routing', async () => {
    mkdirSync(folder);
    for (const f of files) writeFileSync(join(folder, f.name), await f.read(0, f.size));
    const out = join(dir, 'trace.json');
    const { code, out: log } = await capture(['trace', folder, '--ids', '4,9,1', '--max-new-tokens', '4', '--logits', '--out', out]);
    expect(code, log).toBe(0);
    const trace = parseTrace(readFileSync(out, 'utf8'));
    expect(trace.model).toEqual({ architecture: 'OlmoeForCausalLM', numLayers: 2, numExperts: 4, topK: 2, moeLayers: [0, 1] });
    expect(trace.tokens.slice(0, 3)).toEqual([{ id: 4, text: '<4>' }, { id: 9, text: '<9>' }, { id: 1, text: '<1>' }]);
    expect(trace.tokens).toHaveLength(7);
    expect(trace.promptLength).toBe(3);
    expect(trace.logits).toHaveLength(3);
    const opened = await openModel(files);
    const ref = await referenceForward(opened.spec, opened.weights, [4, 9, 1]);
    for (const layer of trace.layers) {
      expect(layer.experts).toHaveLength(6); // 3 prompt + 3 fed-back generated tokens
      const chosen = softmaxTopKReference(ref.routerLogits.get(layer.layer)!, { numTokens: 3, numExperts: 4, topK: 2, renormalize: false });
      expect(layer.experts.slice(0, 3).flat()).toEqual(Array.from(chosen.expertIds));
    }
  });

  it('generate streams tokens and reports tok/s; sampling is seeded', async () => {
    const { code, out } = await capture(['generate', folder, '--ids', '4,9,1', '--max-new-tokens', '5']);
    expect(code, out).toBe(0);
    expect(out).toMatch(/prefill 3 tokens: [\d.]+ tok\/s · decode 4 tokens: [\d.]+ tok\/s · stopped by limit · adapter /);
    const sampled = async () => {
      const t = join(dir, `s${Math.random()}.json`);
      expect((await capture(['trace', folder, '--ids', '4,9', '--max-new-tokens', '6', '--temperature', '1.5', '--seed', '42', '--out', t])).code).toBe(0);
      return parseTrace(readFileSync(t, 'utf8')).tokens.map((x) => x.id);
    };
    expect(await sampled()).toEqual(await sampled());
  });

  it('analyze: weight similarities without a GPU run, routing statistics from a prompt', async () => {
    const sim = join(dir, 'sim.json');
    expect((await capture(['analyze', folder, '--analysis', 'router-similarity', '--out', sim])).code).toBe(0);
    const result = JSON.parse(readFileSync(sim, 'utf8'));
    expect(result.layers.map((l: { layer: number }) => l.layer)).toEqual([0, 1]);
    expect(Object.keys(result.layers[0].matrices).sort()).toEqual(['down', 'gate', 'router', 'up']);
    const co = join(dir, 'co.csv');
    expect((await capture(['analyze', folder, '--analysis', 'coactivation', '--ids', '4,9,1,7', '--layer', '1', '--out', co])).code).toBe(0);
    const rows = readFileSync(co, 'utf8').trim().split('\n');
    expect(rows[0]).toBe('layer,item,row,col,value');
    expect(rows).toHaveLength(1 + 4 * 4);
    expect((await capture(['analyze', folder, '--analysis', 'nonsense', '--out', co])).code).toBe(2);
  });

  it('gpu opens a device of its own, names the adapter and passes the router self-test', async () => {
    const { code, out } = await capture(['gpu'], true);
    expect(code, out).toBe(0);
    expect(out).toMatch(/^adapter: {2}\S/m);
    expect(out).toMatch(/^self-test: passed \(softmax \+ top-8, \d+×\d+, max error /m);
  });

  it('usage errors say what to give', async () => {
    const noTokenizer = await capture(['trace', folder, '--prompt', 'hi', '--out', join(dir, 'x.json')]);
    expect(noTokenizer.code).toBe(2);
    expect(noTokenizer.out).toMatch(/no tokenizer\.json: give --ids instead of --prompt/);
    expect((await capture(['trace', folder, '--ids', '1', '--bogus'])).code).toBe(2);
  });
});
