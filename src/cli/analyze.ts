// `moescope analyze`: any analysis of the catalog on a checkpoint, written as JSON or CSV. Weight analyses
// need no GPU; the others run the engine on the text(s) given.

import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { ANALYSES, ANALYSIS_NAMES, isAnalysisName } from '../analysis/catalog.ts';
import { analysisCsv } from '../analysis/result.ts';
import { runAnalysis, weightAnalysisGpu, type AnalysisRequest } from '../analysis/runAnalysis.ts';
import { closeCheckpoint } from '../checkpoint/checkpoint.ts';
import type { GpuContext } from '../gpu/context.ts';
import { MoeEngine } from '../engine/engine.ts';
import { openModel } from '../model/openModel.ts';
import { checkpointSources } from '../node/checkpointPaths.ts';
import { loadTokenizer, type TextTokenizer } from '../tokenizer/tokenizer.ts';
import { parseIndexList, parseTokenIds } from '../util/indexList.ts';
import { commandGpu } from './commandGpu.ts';
import { UsageError } from './run.ts';

function indices(text: string, what: string): number[] {
  const list = parseIndexList(text);
  if (!list) throw new UsageError(`${what}: "${text}" is not a list like 0-3,7`);
  return list;
}

function texts(prompts: string[] | undefined, ids: string[] | undefined, tokenizer: TextTokenizer | null): number[][] {
  const out = (ids ?? []).map((list) => {
    const parsed = parseTokenIds(list);
    if (!parsed) throw new UsageError(`--ids must be comma-separated token ids, got "${list}"`);
    return parsed;
  });
  for (const p of prompts ?? []) {
    if (!tokenizer) throw new UsageError('this checkpoint has no tokenizer.json: give --ids instead of --prompt');
    out.push(tokenizer.encode(p));
  }
  return out;
}

export async function analyzeCommand(args: string[], lent?: GpuContext): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      analysis: { type: 'string' }, layer: { type: 'string' }, experts: { type: 'string' },
      prompt: { type: 'string', multiple: true }, ids: { type: 'string', multiple: true },
      'compare-prompt': { type: 'string', multiple: true }, 'compare-ids': { type: 'string', multiple: true },
      out: { type: 'string' },
    },
    allowPositionals: true,
    strict: true,
  });
  const analysis = values.analysis ?? '';
  if (!isAnalysisName(analysis)) throw new UsageError(`--analysis must be one of ${ANALYSIS_NAMES.join(', ')}`);
  if (positionals.length === 0 || !values.out) throw new UsageError('name a checkpoint and --out FILE (.json or .csv)');
  const info = ANALYSES[analysis];
  const opened = await openModel(await checkpointSources(positionals));
  const tokenizer = loadTokenizer(opened.checkpoint.text);
  const request: AnalysisRequest = { analysis };
  if (values.layer !== undefined) request.layers = indices(values.layer, '--layer');
  if (values.experts !== undefined) request.experts = indices(values.experts, '--experts');
  if (info.texts > 0) {
    request.texts = texts(values.prompt, values.ids, tokenizer);
    if (request.texts.length === 0) throw new UsageError(`${analysis} runs the model on a text: give --prompt TEXT or --ids 1,2,3 (repeat either for a batch)`);
    if (info.texts === 2) {
      request.compare = texts(values['compare-prompt'], values['compare-ids'], tokenizer);
      if (request.compare.length === 0) throw new UsageError('domain-comparison compares two texts: add --compare-prompt TEXT or --compare-ids 1,2,3');
    }
  }
  const maxPositions = Math.max(1, ...[...(request.texts ?? []), ...(request.compare ?? [])].map((t) => t.length + 1));
  // the reordering's neuron products run on the GPU too (any adapter: SwiftShader without a GPU)
  const opening = info.source === 'weights' && analysis !== 'reordered-similarity' ? null : await commandGpu(lent);
  const gpu = opening?.gpu ?? null;
  const engine = gpu && info.source !== 'weights' ? await MoeEngine.load(gpu, opened, { maxPositions }) : null;
  let lastReport = 0;
  const onProgress = (done: number, total: number) => {
    if (performance.now() - lastReport > 1000 || done === total) {
      lastReport = performance.now();
      process.stderr.write(`\r${analysis}: ${done}/${total}`);
    }
  };
  try {
    const result = await runAnalysis({ model: opened, engine, gpu: weightAnalysisGpu(gpu), tokenText: (id) => tokenizer?.tokenText(id) ?? `<${id}>`, onProgress }, request);
    process.stderr.write('\n');
    await writeFile(values.out, values.out.endsWith('.csv') ? analysisCsv(result.layers) : JSON.stringify(result));
    console.log(`wrote ${values.out}: ${analysis} for ${result.layers.length} layer${result.layers.length === 1 ? '' : 's'} in ${(result.milliseconds / 1000).toFixed(2)} s`);
    for (const note of result.notes) console.log(`  ${note}`);
    for (const l of result.layers) {
      const stats = Object.entries(l.stats ?? {}).map(([k, v]) => `${k} ${v.toFixed(3)}`);
      if (stats.length) console.log(`  layer ${l.layer}: ${stats.join(', ')}`);
    }
  } finally {
    engine?.destroy();
    opening?.release();
    await closeCheckpoint(opened.checkpoint);
  }
  return 0;
}
