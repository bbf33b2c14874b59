// `moescope analyze`: the weight analyses (no GPU needed) and the routing statistics of a prompt.

import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { coactivation } from '../analysis/coactivation.ts';
import { loadStats } from '../analysis/routingStats.ts';
import { analysisCsv, STATIC_ANALYSES, staticAnalysis, type LayerMatrices, type StaticAnalysis } from '../analysis/staticAnalyses.ts';
import { closeCheckpoint } from '../checkpoint/checkpoint.ts';
import { MoeEngine } from '../engine/engine.ts';
import { openModel } from '../model/openModel.ts';
import { checkpointSources } from '../node/checkpointPaths.ts';
import { createNodeGpu } from '../node/gpu.ts';
import { loadTokenizer } from '../tokenizer/tokenizer.ts';
import { UsageError } from './run.ts';

const ROUTING_ANALYSES = ['coactivation', 'load-balance'] as const;
export const ANALYSES = [...STATIC_ANALYSES, ...ROUTING_ANALYSES] as const;

export async function analyzeCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { analysis: { type: 'string' }, layer: { type: 'string' }, prompt: { type: 'string' }, ids: { type: 'string' }, out: { type: 'string' } },
    allowPositionals: true,
    strict: true,
  });
  const analysis = values.analysis ?? '';
  if (!(ANALYSES as readonly string[]).includes(analysis)) throw new UsageError(`--analysis must be one of ${ANALYSES.join(', ')}`);
  if (positionals.length === 0 || !values.out) throw new UsageError('name a checkpoint and --out FILE (.json or .csv)');
  const opened = await openModel(await checkpointSources(positionals));
  const layers = values.layer !== undefined ? [Number(values.layer)] : undefined;
  let result: LayerMatrices[];
  if ((STATIC_ANALYSES as readonly string[]).includes(analysis)) {
    result = await staticAnalysis(opened, analysis as StaticAnalysis, layers);
    await closeCheckpoint(opened.checkpoint);
  } else {
    const tokenizer = loadTokenizer(opened.checkpoint.text);
    const ids = values.ids?.split(',').map(Number) ?? (values.prompt !== undefined && tokenizer ? tokenizer.encode(values.prompt) : null);
    if (!ids || ids.some((n) => !Number.isInteger(n) || n < 0)) throw new UsageError('routing analyses need --prompt TEXT (with a tokenizer) or --ids 1,2,3');
    const gpu = await createNodeGpu();
    const engine = await MoeEngine.load(gpu, opened, { maxPositions: ids.length + 1 }).finally(() => closeCheckpoint(opened.checkpoint));
    try {
      const run = await engine.generate({ promptIds: ids, maxNewTokens: 0 });
      const E = opened.card.numExperts;
      result = run.layers
        .filter((l) => !layers || layers.includes(l.layer))
        .map((l) => {
          if (analysis === 'coactivation') {
            const m = coactivation(l.experts, E);
            return { layer: l.layer, matrices: { coactivation: Array.from({ length: E }, (_, i) => Array.from(m.subarray(i * E, (i + 1) * E))) } };
          }
          const s = loadStats(l.experts, l.routerLogits, E);
          return { layer: l.layer, matrices: { share: [s.shares], counts: [s.counts] }, stats: { cv: s.coefficientOfVariation, auxLoss: s.auxLoss, entropy: s.entropy, normalizedEntropy: s.normalizedEntropy } };
        });
    } finally {
      engine.destroy();
      gpu.destroy();
    }
  }
  const text = values.out.endsWith('.csv') ? analysisCsv(result) : JSON.stringify({ analysis, architecture: opened.spec.architecture, layers: result });
  await writeFile(values.out, text);
  console.log(`wrote ${values.out}: ${analysis} for ${result.length} layer${result.length === 1 ? '' : 's'}`);
  for (const l of result) if (l.r2) console.log(`layer ${l.layer}: r² router vs gate ${l.r2.gate.toFixed(3)}, up ${l.r2.up.toFixed(3)}, down ${l.r2.down.toFixed(3)}`);
  return 0;
}
