// moescope CLI: one function per command; each returns the process exit code.

import { closeCheckpoint } from '../checkpoint/checkpoint.ts';
import { CheckpointError } from '../checkpoint/errors.ts';
import { mebibytes as mib, millions } from '../util/format.ts';
import { runGpuSelfTest } from '../kernels/selfTest.ts';
import { planMemory } from '../model/memoryPlan.ts';
import { openModel } from '../model/openModel.ts';
import { checkpointSources } from '../node/checkpointPaths.ts';
import type { GpuContext } from '../gpu/context.ts';
import { BrowserBenchError } from '../node/builtPage.ts';
import { GpuUnavailableError } from '../node/gpu.ts';
import { loadTokenizer } from '../tokenizer/tokenizer.ts';
import { analyzeCommand } from './analyze.ts';
import { benchCommand } from './bench.ts';
import { commandGpu } from './commandGpu.ts';
import { generateCommand, traceCommand, UsageError } from './run.ts';

const USAGE = `moescope — see inside Mixture-of-Experts language models

Usage:
  npx moescope inspect <checkpoint dir or files> [--context N]
                            validate a Hugging Face checkpoint and print its model card and memory plan
                            (reads headers and config files only)
  npx moescope trace <checkpoint> (--prompt TEXT | --ids 1,2,3) [--chat] [--max-new-tokens N]
                      [--temperature T [--top-k K] [--top-p P] --seed S] [--logits] --out trace.json
                            run the prompt and write every MoE layer's routing (moescope.trace/1);
                            greedy unless --temperature is given
  npx moescope generate <checkpoint> --prompt TEXT [--max-new-tokens N] [sampling options as above]
                            print the continuation as it comes, then prefill and decode tok/s
  npx moescope bench [--shape NAME | --model DIR] [--prompt-tokens 512] [--new-tokens 128] [--decode-context 32] [--steps-in-flight 2] [--no-step-timer] [--profile] [--profile-grids] [--profile-in-place] [--no-subgroups]
                      [--upload-chunk-mib 8] [--upload-read-ahead 4] [--upload-writes mapped|queued]
                            time load, prefill and decode (shapes: tiny, olmoe-1b-7b,
                            granite-3.0-1b-a400m, qwen1.5-moe-a2.7b; synthetic bf16 weights);
                            --profile-in-place: each decode kernel's cost as the step runs (the step
                            timed without it)
                      [--browser [--chromium PATH] [--chromium-flag F]...]
                            --browser: the same in headless Chromium, in the bench page's Web Worker
                            (as the app runs the engine), not in Node
                      [--app [--runs 2] [--cpu-profile FILE]]
                            --app: the app page itself in headless Chromium, driven as a user drives it
                            (files picked, a prompt of --decode-context ids run for --new-tokens):
                            load time, Run → tokens shown, the page's tok/s, long tasks, frames/s;
                            --cpu-profile: the page thread's CPU profile of the last run, written to
                            FILE (.cpuprofile, for DevTools) and summed by function in the table
  npx moescope analyze <checkpoint> --analysis NAME [--layer 0-3,7] [--experts 0-7]
                      [--prompt TEXT | --ids 1,2,3]... [--compare-prompt TEXT | --compare-ids ...]
                      --out F.json|F.csv
                            from the weights: expert-similarity, neuron-similarity,
                              reordered-similarity (Hungarian + Kendall τ; --experts for a subset),
                              router-similarity, expert-pca, neuron-pca;
                            running every expert on the text: output-similarity, norm-score-ranks,
                              intermediate-states;
                            from routing the text (repeat --prompt for a batch): chosen-experts,
                              coactivation, load-balance, vocabulary, domain-comparison (two texts)
  npx moescope gpu          show the WebGPU adapter Node gets (real GPU, else SwiftShader) and run the
                            router-kernel self-test on it
  npx moescope help         this text
`;

async function gpuCommand(lent?: GpuContext): Promise<number> {
  const { gpu, release } = await commandGpu(lent);
  const { name, isFallback, features, limits } = gpu.adapter;
  console.log(`adapter:  ${name}${isFallback ? ' (CPU fallback)' : ''}`);
  console.log(`features: ${features.join(', ')}`);
  for (const [key, value] of Object.entries(limits)) console.log(`${key.padEnd(34)} ${value}`);
  const test = await runGpuSelfTest(gpu);
  console.log(
    `self-test: ${test.passed ? 'passed' : 'FAILED'} (softmax + top-8, ${test.tokens}×${test.experts}, ` +
      `max error ${test.maxError.toExponential(1)}, ${test.mismatchedExperts} expert choices differ)`,
  );
  release();
  return test.passed ? 0 : 1;
}


async function inspectCommand(args: string[]): Promise<number> {
  const contextFlag = args.indexOf('--context');
  const contextLength = contextFlag >= 0 ? Number(args[contextFlag + 1]) : 4096;
  const paths = contextFlag >= 0 ? args.filter((_, i) => i !== contextFlag && i !== contextFlag + 1) : args;
  if (paths.length === 0 || !Number.isInteger(contextLength) || contextLength < 1) {
    console.error('usage: npx moescope inspect <checkpoint dir or files> [--context N]');
    return 2;
  }
  const { spec, weights, card, checkpoint } = await openModel(await checkpointSources(paths));
  await closeCheckpoint(checkpoint);
  const tokenizer = loadTokenizer(checkpoint.text);
  const plan = planMemory(spec, weights, { maxBufferSize: 2 ** 53, maxStorageBufferBindingSize: 2 ** 31 - 4 }, { contextLength });
  const rows: [string, string][] = [
    ['architecture', card.architecture],
    ['parameters', `${millions(card.totalParameters)} total, ${millions(card.activeParameters)} active per token`],
    ['layers', `${card.numLayers} (MoE: ${card.moeLayers.length === card.numLayers ? 'all' : card.moeLayers.join(', ')})`],
    ['experts', `${card.numExperts} routed, top-${card.topK}; shared: ${card.sharedExperts}`],
    ['dtype', card.dtype],
    ['files', card.files.map((f) => `${f.name} (${mib(f.bytes)})`).join(', ')],
    ['tokenizer', tokenizer ? `tokenizer.json${tokenizer.chatTemplate ? ' + chat template' : ''}` : 'none (run from token ids)'],
    ['GPU memory', `${mib(plan.totalBytes)} = weights ${mib(plan.weightBytes)} + KV cache ${mib(plan.kvCacheBytes)} (${contextLength} tokens) + activations ${mib(plan.activationBytes)}`],
  ];
  if (checkpoint.ignored.length > 0) rows.push(['ignored files', checkpoint.ignored.join(', ')]);
  for (const [k, v] of rows) console.log(`${k.padEnd(14)} ${v}`);
  return 0;
}

/** Runs one command. `gpu` lends the commands a device to use and leave open (see commandGpu.ts). */
export async function main(args: string[], { gpu }: { gpu?: GpuContext } = {}): Promise<number> {
  const [command = 'help'] = args;
  try {
    switch (command) {
      case 'gpu':
        return await gpuCommand(gpu);
      case 'inspect':
        return await inspectCommand(args.slice(1));
      case 'trace':
        return await traceCommand(args.slice(1), gpu);
      case 'generate':
        return await generateCommand(args.slice(1), gpu);
      case 'bench':
        return await benchCommand(args.slice(1), gpu);
      case 'analyze':
        return await analyzeCommand(args.slice(1), gpu);
      case 'help':
      case '--help':
      case '-h':
        console.log(USAGE);
        return 0;
      default:
        console.error(`moescope: unknown command "${command}"\n\n${USAGE}`);
        return 2;
    }
  } catch (error) {
    if (error instanceof UsageError || (error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS'))) {
      console.error(`moescope ${command}: ${error.message}\n\n${USAGE}`);
      return 2;
    }
    if (error instanceof GpuUnavailableError || error instanceof CheckpointError || error instanceof BrowserBenchError) {
      console.error(`moescope: ${error.message}`);
      return 1;
    }
    throw error;
  }
}
