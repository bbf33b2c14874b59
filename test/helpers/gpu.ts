// The GPU-test helper: one GpuContext for every GPU test file a worker runs (workers are not isolated:
// vitest.config.ts), from a real adapter if there is one, else SwiftShader. Commands under test borrow it
// (main(args, { gpu })).
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

/** The kernel variants a GPU test runs: with subgroup operations, and plain (workgroup memory). */
export const KERNEL_VARIANTS = ['subgroups', 'plain'] as const;
export type KernelVariant = (typeof KERNEL_VARIANTS)[number];

/**
 * The test context for one kernel variant. 'subgroups' fails (never falls back) where the adapter's
 * subgroups are not usable, so a green run has exercised both; SwiftShader (CI) has them.
 */
export async function variantGpu(variant: KernelVariant): Promise<GpuContext> {
  const gpu = await testGpu();
  if (variant === 'plain') return gpu.withoutSubgroups();
  if (!gpu.subgroups) throw new Error(`the test adapter (${gpu.adapter.name}) has no usable subgroups: the subgroup kernels cannot be tested here`);
  return gpu;
}
