// GpuContext's compiled pipelines: a context and its plain sibling (withoutSubgroups) share one compile of a
// program whose text is the same in both variants, and each runs its own code where an include differs.
// Checked by running the pipelines: a cache keyed by the shader's name alone would run the wrong variant.
import { describe, expect, it } from 'vitest';
import { readBuffer, storageBuffer } from '../../src/gpu/buffers.ts';
import { GpuContext } from '../../src/gpu/context.ts';
import { shaderLibraryFromMap } from '../../src/gpu/shaderLibrary.ts';
import { testGpu } from '../helpers/gpu.ts';

const WRITE = (value: string) => `
@group(0) @binding(0) var<storage, read_write> out: array<f32>;
override SCALE: f32 = 1.0;
@compute @workgroup_size(1) fn main() { out[0] = SCALE * ${value}; }`;

const shaders = shaderLibraryFromMap(
  new Map([
    ['same', WRITE('1.0')], // no includes: one program for both variants
    ['varies', `#include "value"\n${WRITE('value()')}`],
    ['value', 'fn value() -> f32 { return 2.0; }'],
    ['value.subgroups', 'fn value() -> f32 { return 3.0; }'], // the include the subgroup variant takes
  ]),
);

async function run(ctx: GpuContext, shader: string, constants: Record<string, number> = {}): Promise<number> {
  const pipeline = await ctx.pipeline(shader, constants);
  const out = storageBuffer(ctx.device, 16, 'pipeline cache test');
  const encoder = ctx.device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, ctx.device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: out } }] }));
  pass.dispatchWorkgroups(1);
  pass.end();
  ctx.device.queue.submit([encoder.finish()]);
  const value = new Float32Array(await readBuffer(ctx.device, out, 4))[0]!;
  out.destroy();
  return value;
}

describe('compiled pipelines', () => {
  it('are shared by the two kernel variants only where their programs are the same', async () => {
    const gpu = await testGpu();
    const withSubgroups = new GpuContext(gpu.device, gpu.adapter, shaders, { subgroups: true });
    expect(withSubgroups.subgroups).toBe(true); // the test adapter has subgroups (SwiftShader does)
    const plain = withSubgroups.withoutSubgroups();
    expect(plain.subgroups).toBe(false);
    expect(withSubgroups.withoutSubgroups()).toBe(plain);
    expect(plain.withoutSubgroups()).toBe(plain);

    expect(await plain.pipeline('same')).toBe(await withSubgroups.pipeline('same'));
    expect(await plain.pipeline('same', { SCALE: 5 })).not.toBe(await withSubgroups.pipeline('same'));
    expect(await plain.pipeline('varies')).not.toBe(await withSubgroups.pipeline('varies'));

    expect(await run(withSubgroups, 'same')).toBe(1);
    expect(await run(plain, 'same', { SCALE: 5 })).toBe(5);
    expect(await run(withSubgroups, 'varies')).toBe(3);
    expect(await run(plain, 'varies')).toBe(2);
    expect(await run(withSubgroups, 'varies', { SCALE: 4 })).toBe(12);
  });
});
