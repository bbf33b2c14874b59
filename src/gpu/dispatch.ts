// One compute dispatch: pipeline from the cache, a Params uniform, bindings in shader order, a grid.

import { bindingResource, uniformBuffer, type Binding } from './buffers.ts';
import type { GpuContext, PipelineConstants } from './context.ts';
import { Recorder, type Encoder } from './recorder.ts';

/** A Params struct's fields in shader order: each a u32 or an f32 (4 bytes each). */
export type ParamField = ['u32' | 'f32', number];

/** Where params are packed for a Recorder: reused, so that recording a dispatch allocates no ArrayBuffer. */
const scratch = new DataView(new ArrayBuffer(256));

/** Pack fields into the shared scratch space; the view is valid until the next call. */
function packIntoScratch(fields: readonly ParamField[]): Uint8Array {
  const byteLength = Math.max(16, Math.ceil((fields.length * 4) / 16) * 16);
  if (byteLength > scratch.byteLength) throw new RangeError(`params of ${fields.length} fields exceed ${scratch.byteLength} bytes`);
  for (let i = 0; i < byteLength / 4; i++) scratch.setUint32(i * 4, 0, true);
  fields.forEach(([type, value], i) => {
    if (type === 'u32') {
      if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) throw new RangeError(`params field ${i}: ${value} is not a u32`);
      scratch.setUint32(i * 4, value, true);
    } else {
      scratch.setFloat32(i * 4, value, true);
    }
  });
  return new Uint8Array(scratch.buffer, 0, byteLength);
}

/** A Params struct's bytes: fields in order, 4 bytes each, padded to a multiple of 16. */
export function packParams(fields: readonly ParamField[]): ArrayBuffer {
  return packIntoScratch(fields).slice().buffer;
}

export interface DispatchSpec {
  shader: string;
  constants?: PipelineConstants;
  params: readonly ParamField[];
  /** Storage buffers (or ranges of them) for bindings 1, 2, … in shader order (binding 0 is Params). */
  buffers: readonly Binding[];
  /** Workgroups in x, y, z. */
  grid: readonly [number, number?, number?];
  label?: string;
}

export async function dispatch(ctx: GpuContext, encoder: Encoder, spec: DispatchSpec): Promise<void> {
  const pipeline = await ctx.pipeline(spec.shader, spec.constants ?? {});
  const { device } = ctx;
  const [x, y = 1, z = 1] = spec.grid;
  const max = device.limits.maxComputeWorkgroupsPerDimension;
  if (x > max || y > max || z > max) throw new RangeError(`${spec.shader}: grid ${x}×${y}×${z} exceeds ${max} per dimension`);
  if (encoder instanceof Recorder) {
    if (x > 0 && y > 0 && z > 0) encoder.dispatch(pipeline, packIntoScratch(spec.params), spec.buffers, [x, y, z], spec.label ?? spec.shader);
    return;
  }
  const bindGroup = device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: [
      { binding: 0, resource: { buffer: uniformBuffer(device, packParams(spec.params)) } },
      ...spec.buffers.map((b, i) => ({ binding: i + 1, resource: bindingResource(b) })),
    ],
  });
  const pass = encoder.beginComputePass({ label: spec.label ?? spec.shader });
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, bindGroup);
  if (x > 0 && y > 0 && z > 0) pass.dispatchWorkgroups(x, y, z);
  pass.end();
}
