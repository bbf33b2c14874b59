// Whether the subgroup variants of the kernels (shaders/*.subgroups.wgsl) are right on this device.
// They sum a row of 32 lanes or a workgroup of 256 with subgroupAdd and then combine one partial per
// subgroup, so they need subgroups of at most 32 invocations (a power of two) that hold consecutive local
// indices. WGSL does not promise that layout; NVIDIA, SwiftShader and the common drivers give it, and a
// device that does not gets the plain kernels.

import { GpuContext } from './context.ts';

export const LANES_PER_ROW = 32;
const INVOCATIONS = 256;

/** Run shaders/subgroup_layout.wgsl once and check the layout the subgroup kernels assume. */
export async function subgroupsUsable(ctx: GpuContext): Promise<boolean> {
  const { device } = ctx;
  if (!device.features.has('subgroups')) return false;
  const bytes = INVOCATIONS * 16;
  const out = device.createBuffer({ label: 'subgroup layout', size: bytes, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
  const read = device.createBuffer({ label: 'subgroup layout readback', size: bytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  try {
    const pipeline = await ctx.pipeline('subgroup_layout');
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: out } }] }));
    pass.dispatchWorkgroups(1);
    pass.end();
    encoder.copyBufferToBuffer(out, 0, read, 0, bytes);
    device.queue.submit([encoder.finish()]);
    await read.mapAsync(GPUMapMode.READ);
    const v = new Uint32Array(read.getMappedRange().slice(0));
    read.unmap();
    const size = v[0]!;
    if (size < 1 || size > LANES_PER_ROW || (size & (size - 1)) !== 0) return false;
    for (let lid = 0; lid < INVOCATIONS; lid++) {
      const [s, id, count, first] = [v[4 * lid]!, v[4 * lid + 1]!, v[4 * lid + 2]!, v[4 * lid + 3]!];
      if (s !== size || id !== lid % size || count !== size || first !== lid - (lid % size)) return false;
    }
    return true;
  } catch {
    return false; // a driver that cannot compile it: plain kernels
  } finally {
    out.destroy();
    read.destroy();
  }
}

/** `ctx` with the subgroup kernels where they are right on its device, else `ctx` unchanged. */
export async function preferSubgroups(ctx: GpuContext): Promise<GpuContext> {
  return (await subgroupsUsable(ctx)) ? new GpuContext(ctx.device, ctx.adapter, ctx.shaders, { subgroups: true }) : ctx;
}
