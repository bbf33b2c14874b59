// One compute dispatch: pipeline from the cache, a Params uniform, bindings in shader order, a grid.

import { uniformBuffer } from './buffers.ts';
import type { GpuContext, PipelineConstants } from './context.ts';
import { Recorder, type Encoder } from './recorder.ts';

/** A Params struct's fields in shader order: each a u32 or an f32 (4 bytes each). */
export type ParamField = ['u32' | 'f32', number];

export function packParams(fields: readonly ParamField[]): ArrayBuffer {
  const bytes = new ArrayBuffer(Math.max(16, Math.ceil((fields.length * 4) / 16) * 16));
  const view = new DataView(bytes);
  fields.forEach(([type, value], i) => {
    if (type === 'u32') {
      if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) throw new RangeError(`params field ${i}: ${value} is not a u32`);
      view.setUint32(i * 4, value, true);
    } else {
      view.setFloat32(i * 4, value, true);
    }
  });
  return bytes;
}

export interface DispatchSpec {
  shader: string;
  constants?: PipelineConstants;
  params: readonly ParamField[];
  /** Storage buffers for bindings 1, 2, … in shader order (binding 0 is Params). */
  buffers: readonly GPUBuffer[];
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
    if (x > 0 && y > 0 && z > 0) encoder.dispatch(pipeline, packParams(spec.params), spec.buffers, [x, y, z], spec.label ?? spec.shader);
    return;
  }
  const bindGroup = device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: [
      { binding: 0, resource: { buffer: uniformBuffer(device, packParams(spec.params)) } },
      ...spec.buffers.map((buffer, i) => ({ binding: i + 1, resource: { buffer } })),
    ],
  });
  const pass = encoder.beginComputePass({ label: spec.label ?? spec.shader });
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, bindGroup);
  if (x > 0 && y > 0 && z > 0) pass.dispatchWorkgroups(x, y, z);
  pass.end();
}
