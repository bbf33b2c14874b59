// The GPU-test helper: one GpuContext per test worker, from a real adapter if there is one, else SwiftShader.
// If neither can be had the suite fails with the reason; it never skips.

import type { GpuContext } from '../../src/gpu/context.ts';
import { createNodeGpu } from '../../src/node/gpu.ts';

let shared: Promise<GpuContext> | undefined;

export function testGpu(): Promise<GpuContext> {
  shared ??= createNodeGpu().then((ctx) => {
    const { name, features, limits } = ctx.adapter;
    console.info(`[gpu] adapter: ${name}\n[gpu] features: ${features.join(', ')}\n[gpu] limits: ${JSON.stringify(limits)}`);
    return ctx;
  });
  return shared;
}
