// `moescope trace` and `moescope generate`: load a checkpoint onto Node's GPU (or SwiftShader), run a
// prompt, and write the routing trace or stream the text.

import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { MoeEngine, type GenerateOptions } from '../engine/engine.ts';
import { closeCheckpoint } from '../checkpoint/checkpoint.ts';
import type { GpuContext } from '../gpu/context.ts';
import { openModel } from '../model/openModel.ts';
import { checkpointSources } from '../node/checkpointPaths.ts';
import { loadTokenizer, type TextTokenizer } from '../tokenizer/tokenizer.ts';
import { buildTrace } from '../trace/traceFile.ts';
import { parseTokenIds } from '../util/indexList.ts';
import { commandGpu } from './commandGpu.ts';

export class UsageError extends Error {
  override name = 'UsageError';
}

const OPTIONS = {
  prompt: { type: 'string' },
  ids: { type: 'string' },
  chat: { type: 'boolean' },
  'max-new-tokens': { type: 'string' },
  temperature: { type: 'string' },
  'top-k': { type: 'string' },
  'top-p': { type: 'string' },
  seed: { type: 'string' },
  logits: { type: 'boolean' },
  out: { type: 'string' },
  context: { type: 'string' },
} as const;

function number(value: string | undefined, name: string, fallback: number, check: (n: number) => boolean): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || !check(n)) throw new UsageError(`--${name} ${value} is not valid`);
  return n;
}

function promptIds(values: { prompt?: string | undefined; ids?: string | undefined; chat?: boolean | undefined }, tokenizer: TextTokenizer | null): number[] {
  if (values.ids !== undefined) {
    const ids = parseTokenIds(values.ids);
    if (!ids) throw new UsageError(`--ids must be comma-separated token ids, got "${values.ids}"`);
    return ids;
  }
  if (values.prompt === undefined) throw new UsageError('give --prompt TEXT or --ids 1,2,3');
  if (!tokenizer) throw new UsageError('this checkpoint has no tokenizer.json: give --ids instead of --prompt');
  const text = values.chat ? tokenizer.applyChatTemplate([{ role: 'user', content: values.prompt }]) : values.prompt;
  // a chat template already spells out the special tokens
  return tokenizer.encode(text, !values.chat);
}

async function prepare(args: string[], lent: GpuContext | undefined) {
  const { values, positionals } = parseArgs({ args, options: OPTIONS, allowPositionals: true, strict: true });
  if (positionals.length === 0) throw new UsageError('name a checkpoint folder or its files');
  const opened = await openModel(await checkpointSources(positionals));
  const tokenizer = loadTokenizer(opened.checkpoint.text);
  const ids = promptIds(values, tokenizer);
  const maxNewTokens = number(values['max-new-tokens'], 'max-new-tokens', 32, (n) => Number.isInteger(n) && n >= 0);
  const temperature = number(values.temperature, 'temperature', 0, (n) => n >= 0);
  const options: GenerateOptions = { promptIds: ids, maxNewTokens, allLogits: values.logits === true };
  if (temperature > 0) {
    options.sampling = {
      temperature,
      topK: number(values['top-k'], 'top-k', 0, (n) => Number.isInteger(n) && n >= 0),
      topP: number(values['top-p'], 'top-p', 1, (n) => n > 0 && n <= 1),
      seed: number(values.seed, 'seed', 0, Number.isInteger),
    };
  }
  const context = number(values.context, 'context', ids.length + maxNewTokens, (n) => Number.isInteger(n) && n > 0);
  const { gpu, release } = await commandGpu(lent);
  const engine = await MoeEngine.load(gpu, opened, { maxPositions: Math.max(context, ids.length + maxNewTokens) }).finally(() => closeCheckpoint(opened.checkpoint));
  const text = (id: number) => tokenizer?.tokenText(id) ?? `<${id}>`;
  return { values, opened, tokenizer, engine, options, text, release };
}

export async function traceCommand(args: string[], lent?: GpuContext): Promise<number> {
  const { values, opened, engine, options, text, release } = await prepare(args, lent);
  if (!values.out) throw new UsageError('give --out trace.json');
  try {
    const result = await engine.generate(options);
    const trace = buildTrace(opened.spec, result, text);
    await writeFile(values.out, JSON.stringify(trace));
    console.log(`wrote ${values.out}: ${trace.tokens.length} tokens (${trace.promptLength} prompt), ${trace.layers.length} MoE layers, stopped by ${result.stoppedBy}`);
    return 0;
  } finally {
    engine.destroy();
    release();
  }
}

export async function generateCommand(args: string[], lent?: GpuContext): Promise<number> {
  const { engine, options, tokenizer, text, release } = await prepare(args, lent);
  const prompt = options.promptIds.length;
  let printed = '';
  const show = (ids: number[]) => {
    const all = tokenizer ? tokenizer.decode(ids, true) : ids.map(text).join(' ');
    process.stdout.write(all.startsWith(printed) ? all.slice(printed.length) : `\n${all}`);
    printed = all;
  };
  try {
    const result = await engine.generate({ ...options, onStep: (partial) => show(partial.tokens.slice(prompt)) });
    const generated = result.tokens.length - prompt;
    const decodeTokens = Math.max(0, generated - 1);
    process.stdout.write('\n');
    console.log(
      `prefill ${prompt} tokens: ${((prompt / result.prefillMs) * 1000).toFixed(1)} tok/s · ` +
        `decode ${decodeTokens} tokens: ${decodeTokens ? ((decodeTokens / result.decodeMs) * 1000).toFixed(1) : '–'} tok/s · ` +
        `stopped by ${result.stoppedBy} · adapter ${engine.ctx.adapter.name}`,
    );
    return 0;
  } finally {
    engine.destroy();
    release();
  }
}
