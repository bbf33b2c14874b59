// What one workgroup costs the adapter Node finds (SwiftShader without a GPU), by what its kernel does:
// with no barrier, one, four, four with workgroup-memory traffic between them, at 256 and 64 invocations.
// SwiftShader runs a workgroup without barriers straight through, and one with any barrier as coroutines,
// which is what sets the speed of the engine's kernels there (CI, and the page on a machine without a GPU).
//   npx tsx tools/workgroup_cost.ts            (VK_ICD_FILENAMES picks the driver, as for `moescope gpu`)
import { createNodeGpu } from '../src/node/gpu.ts';

const GROUPS = 512;
const RUNS = 3;

const gpu = await createNodeGpu();
const { device } = gpu;
const out = device.createBuffer({ size: GROUPS * 256 * 4, usage: GPUBufferUsage.STORAGE });

/** A kernel of `size` invocations whose body is `barriers` rounds of a barrier, with a store and load around it if `shared`. */
function kernel(size: number, barriers: number, shared: boolean): string {
  const round = shared ? 's[li % 256u] = v; workgroupBarrier(); v += s[(li + 1u) % 256u];' : 'workgroupBarrier();';
  return `
@group(0) @binding(0) var<storage, read_write> o: array<f32>;
${shared ? 'var<workgroup> s: array<f32, 256>;' : ''}
@compute @workgroup_size(${size}) fn main(@builtin(local_invocation_index) li: u32, @builtin(workgroup_id) w: vec3u) {
  var v = f32(li);
  ${Array.from({ length: barriers }, () => round).join('\n  ')}
  o[w.x * ${size}u + li] = v;
}`;
}

/** µs per workgroup over RUNS dispatches of GROUPS workgroups, after one untimed. */
async function microsecondsPerWorkgroup(code: string): Promise<number> {
  const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module: device.createShaderModule({ code }), entryPoint: 'main' } });
  const group = device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: out } }] });
  const run = async () => {
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, group);
    pass.dispatchWorkgroups(GROUPS);
    pass.end();
    device.queue.submit([encoder.finish()]);
    await device.queue.onSubmittedWorkDone();
  };
  await run();
  const start = performance.now();
  for (let i = 0; i < RUNS; i++) await run();
  return ((performance.now() - start) * 1000) / RUNS / GROUPS;
}

console.log(`adapter: ${gpu.adapter.name}`);
console.log('| invocations | barriers | workgroup memory between them | µs per workgroup |\n| --- | --- | --- | --- |');
for (const [size, barriers, shared] of [[256, 0, false], [256, 1, false], [256, 4, false], [256, 4, true], [64, 0, false], [64, 4, true]] as const) {
  console.log(`| ${size} | ${barriers} | ${shared ? 'yes' : 'no'} | ${(await microsecondsPerWorkgroup(kernel(size, barriers, shared))).toFixed(1)} |`);
}
gpu.destroy();
