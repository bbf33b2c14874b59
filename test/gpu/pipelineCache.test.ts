// GpuContext's compiled pipelines: a context and its plain sibling (withoutSubgroups) share one compile of a
// program whose text is the same in both variants, and each runs its own code where an include differs.
// Checked by running the pipelines: a cache keyed by the shader's name alone would run the wrong variant.
import { describe, expect, it } from 'vitest';
import { GpuContext } from '../../src/gpu/context.ts';
import { dispatch } from '../../src/gpu/dispatch.ts';
import { shaderLibraryFromMap } from '../../src/gpu/shaderLibrary.ts';
import { testGpu } from '../helpers/gpu.ts';
import { emptyBuffer, readF32, run } from '../helpers/gpuData.ts';

// binding 0 is Params, as for every kernel dispatch() runs (its one field, added, is 0 here)
const WRITE = (value: string) => `
struct Params { added: f32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
override SCALE: f32 = 1.0;
@compute @workgroup_size(1) fn main() { out[0] = SCALE * ${value} + params.added; }`;

const shaders = shaderLibraryFromMap(
  new Map([
    ['same', WRITE('1.0')], // no includes: one program for both variants
    ['varies', `#include "value"\n${WRITE('value()')}`],
    ['value', 'fn value() -> f32 { return 2.0; }'],
    ['value.subgroups', 'fn value() -> f32 { return 3.0; }'], // the include the subgroup variant takes
  ]),
);

/** What `shader` (with these constants) writes when `ctx` runs it. */
async function output(ctx: GpuContext, shader: string, constants: Record<string, number> = {}): Promise<number> {
  const out = emptyBuffer(ctx, 1);
  await run(ctx, (enc) => dispatch(ctx, enc, { shader, constants, params: [['f32', 0]], buffers: [out], grid: [1] }));
  const [value] = await readF32(ctx, out, 1);
  out.destroy();
  return value!;
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

    expect(await output(withSubgroups, 'same')).toBe(1);
    expect(await output(plain, 'same', { SCALE: 5 })).toBe(5);
    expect(await output(withSubgroups, 'varies')).toBe(3);
    expect(await output(plain, 'varies')).toBe(2);
    expect(await output(withSubgroups, 'varies', { SCALE: 4 })).toBe(12);
  });
});
