// The GPU a CLI command runs on. `npx moescope` runs one command per process: the command opens its own
// device and destroys it when done. A caller that runs many commands in one process (the tests) lends one
// instead, which the command leaves open: its compiled pipelines then serve every command (on SwiftShader,
// compiling one tiled prefill kernel takes seconds).

import type { GpuContext } from '../gpu/context.ts';
import { createNodeGpu, type NodeGpuOptions } from '../node/gpu.ts';

export interface CommandGpu {
  readonly gpu: GpuContext;
  /** Destroys the device if the command opened it; a lent one stays open. */
  release(): void;
}

export async function commandGpu(lent: GpuContext | undefined, options: NodeGpuOptions = {}): Promise<CommandGpu> {
  if (lent) return { gpu: options.subgroups === false ? lent.withoutSubgroups() : lent, release: () => {} };
  const gpu = await createNodeGpu(options);
  return { gpu, release: () => gpu.destroy() };
}
