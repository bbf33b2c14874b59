// moescope CLI: one function per command; each returns the process exit code.

import { createNodeGpu, GpuUnavailableError } from '../node/gpu.ts';
import { runGpuSelfTest } from '../kernels/selfTest.ts';

const USAGE = `moescope — see inside Mixture-of-Experts language models

Usage:
  npx moescope gpu          show the WebGPU adapter Node gets (real GPU, else SwiftShader) and run the
                            router-kernel self-test on it
  npx moescope help         this text
`;

async function gpuCommand(): Promise<number> {
  const gpu = await createNodeGpu();
  const { name, isFallback, features, limits } = gpu.adapter;
  console.log(`adapter:  ${name}${isFallback ? ' (CPU fallback)' : ''}`);
  console.log(`features: ${features.join(', ')}`);
  for (const [key, value] of Object.entries(limits)) console.log(`${key.padEnd(34)} ${value}`);
  const test = await runGpuSelfTest(gpu);
  console.log(
    `self-test: ${test.passed ? 'passed' : 'FAILED'} (softmax + top-8, ${test.tokens}×${test.experts}, ` +
      `max error ${test.maxError.toExponential(1)}, ${test.mismatchedExperts} expert choices differ)`,
  );
  gpu.destroy();
  return test.passed ? 0 : 1;
}

export async function main(args: string[]): Promise<number> {
  const [command = 'help'] = args;
  try {
    switch (command) {
      case 'gpu':
        return await gpuCommand();
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
    if (error instanceof GpuUnavailableError) {
      console.error(`moescope: ${error.message}`);
      return 1;
    }
    throw error;
  }
}
