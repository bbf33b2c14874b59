// What the GPU itself spends per compute dispatch and per small buffer copy, without MoEScope's code:
// timestamp queries around one pass of N trivial dispatches (each reading what the previous one wrote,
// as a forward pass does, or each on buffers of its own), and around a decode step's readback of
// many small buffers into one staging buffer against the same bytes in a few copies.
//   node tools/dispatch_gpu_cost.mjs [dawn flags…]
// Uses the `webgpu` package from NODE_PATH or node_modules (on a GPU host: after `source .gpu/setup.sh`).
import { createRequire } from 'node:module';
import { dispatchPass, gpuTimer } from './timed_pass.mjs';

const require = createRequire(import.meta.url);
const dawn = require(process.env.NODE_PATH ? require.resolve('webgpu', { paths: process.env.NODE_PATH.split(':') }) : 'webgpu');
const flags = process.argv.slice(2);
const gpu = dawn.create(['disable-dawn-features=timestamp_quantization', ...flags]); // exact timestamps (Dawn rounds them by default)
Object.assign(globalThis, dawn.globals);
const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
const device = await adapter.requestDevice({ requiredFeatures: ['timestamp-query'] });
console.log(`adapter: ${adapter.info.vendor} ${adapter.info.architecture} ${adapter.info.description}; flags: ${flags.join(' ') || 'none'}`);

const code = `
struct P { n: u32, a: u32, b: u32, c: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;
@compute @workgroup_size(256) fn main(@builtin(global_invocation_id) g: vec3u) {
  if (g.x >= p.n) { return; }
  dst[g.x] = src[g.x] + 1.0;
}`;
const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module: device.createShaderModule({ code }), entryPoint: 'main' } });
const SIZE = 1 << 20; // bytes per buffer: 262,144 floats
const buffers = Array.from({ length: 64 }, () => device.createBuffer({ size: SIZE, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC }));
const params = device.createBuffer({ size: 16, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
const timer = gpuTimer(device);
const staging = device.createBuffer({ size: 1 << 16, usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ });

const group = (a, b) =>
  device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: params } }, { binding: 1, resource: { buffer: buffers[a] } }, { binding: 2, resource: { buffer: buffers[b] } }] });
// chained: dispatch d reads d's buffer and writes d+1's; apart: every dispatch its own pair
const chained = Array.from({ length: 63 }, (_, d) => group(d, d + 1));
const apart = Array.from({ length: 32 }, (_, d) => group(2 * d, 2 * d + 1));

const time = (record) => timer.time(record);

function dispatches(encoder, groups, count, workgroups, floats) {
  device.queue.writeBuffer(params, 0, new Uint32Array([floats, 0, 0, 0]));
  dispatchPass(encoder, timer, pipeline, groups, count, workgroups);
}

for (const workgroups of [1, 64, 1024]) {
  const floats = workgroups * 256;
  for (const [name, groups] of [['chained', chained], ['apart', apart]]) {
    const one = await time((e) => dispatches(e, groups, 1, workgroups, floats));
    const many = await time((e) => dispatches(e, groups, 200, workgroups, floats));
    console.log(`${workgroups} workgroups, ${name}: 1 dispatch ${one.toFixed(1)} µs; 200 dispatches ${many.toFixed(1)} µs → ${((many - one) / 199).toFixed(2)} µs per dispatch`);
  }
}

// a decode step's readback: a trivial dispatch, then `count` copies of `bytes`, then a trivial dispatch
function copies(encoder, count, bytes) {
  device.queue.writeBuffer(params, 0, new Uint32Array([256, 0, 0, 0]));
  let pass = encoder.beginComputePass({ timestampWrites: { querySet: timer.querySet, beginningOfPassWriteIndex: 0 } });
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, chained[0]);
  pass.dispatchWorkgroups(1);
  pass.end();
  for (let c = 0; c < count; c++) encoder.copyBufferToBuffer(buffers[1 + (c % 62)], 0, staging, c * bytes, bytes);
  pass = encoder.beginComputePass({ timestampWrites: { querySet: timer.querySet, endOfPassWriteIndex: 1 } });
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, chained[1]);
  pass.dispatchWorkgroups(1);
  pass.end();
}
const base = await time((e) => copies(e, 0, 256));
for (const [count, bytes] of [[3, 256], [73, 256], [3, 6144], [49, 256]]) {
  const t = await time((e) => copies(e, count, bytes));
  console.log(`${count} copies of ${bytes} bytes: ${(t - base).toFixed(1)} µs (${((t - base) / count).toFixed(2)} µs each; two dispatches alone ${base.toFixed(1)} µs)`);
}
device.destroy();
