// What prefill attention costs the GPU, kernel alone: shaders/attention_tiled.wgsl over a whole prompt at
// the bench's head shapes (f32 q, k and v as the engine keeps them), timed over several dispatches in one
// compute pass, beside candidate edits of the kernel; each candidate's output is compared with the
// production kernel's (largest absolute difference), so that a faster but wrong edit shows.
// Prints µs per dispatch and TFLOPS (causal: the multiply-adds of QKᵀ and PV below the diagonal).
// A tool for choosing kernels; not part of CI.
//   node tools/attention_cost.mjs [dawn flags…]          (on a GPU host after `source .gpu/setup.sh`)
//   CANDIDATE_SHADERS=dir1,dir2   also time attention_tiled with the .wgsl files of each dir replacing shaders/'s
//                                 (a dir named …qN… takes N queries per workgroup; 32 otherwise, two blocks of 16)
import { createRequire } from 'node:module';
import { dispatchPass, gpuTimer } from './timed_pass.mjs';
import { shaderDir, shaderSource } from './shader_source.mjs';

const require = createRequire(import.meta.url);
const dawn = require(process.env.NODE_PATH ? require.resolve('webgpu', { paths: process.env.NODE_PATH.split(':') }) : 'webgpu');
const flags = process.argv.slice(2);
const gpu = dawn.create(['disable-dawn-features=timestamp_quantization', ...flags]);
Object.assign(globalThis, dawn.globals);
const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
const device = await adapter.requestDevice({
  requiredFeatures: ['timestamp-query'],
  requiredLimits: { maxComputeWorkgroupStorageSize: adapter.limits.maxComputeWorkgroupStorageSize },
});
device.addEventListener?.('uncapturederror', (e) => console.error('uncaptured', e.error?.message));
console.log(`adapter: ${adapter.info.vendor} ${adapter.info.architecture} ${adapter.info.description}; flags: ${flags.join(' ') || 'none'}`);

const QUICK = process.env.QUICK === '1'; // a check that the tool runs (SwiftShader), not a measurement
// name, prompt tokens T, heads, kv heads, head dim
const SHAPES = QUICK
  ? [['quick', 40, 2, 1, 64]]
  : [
      ['OLMoE / Qwen heads, 512 tokens', 512, 16, 16, 128],
      ['granite heads, 512 tokens', 512, 16, 8, 64],
      ['OLMoE heads, 2048 tokens', 2048, 16, 16, 128],
    ];
const DISPATCHES = QUICK ? 1 : 16;
// SHAPE=i: only the i-th (one process per shape and candidate: dawn.node has crashed here in a long run)
const shapes = process.env.SHAPE ? [SHAPES[Number(process.env.SHAPE)]] : SHAPES;

const timer = gpuTimer(device);
const storage = (data) => {
  const b = device.createBuffer({ size: data.byteLength, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC });
  device.queue.writeBuffer(b, 0, data);
  return b;
};
let seed = 1;
const random = (n) => Float32Array.from({ length: n }, () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1);

async function read(buffer, bytes) {
  const staging = device.createBuffer({ size: bytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const encoder = device.createCommandEncoder();
  encoder.copyBufferToBuffer(buffer, 0, staging, 0, bytes);
  device.queue.submit([encoder.finish()]);
  await staging.mapAsync(GPUMapMode.READ);
  const out = new Float32Array(staging.getMappedRange().slice(0));
  staging.unmap();
  return out;
}

const dirs = [shaderDir, ...(process.env.CANDIDATE_SHADERS ? process.env.CANDIDATE_SHADERS.split(',') : [])];
const results = [];
for (const [name, T, heads, kvHeads, d] of shapes) {
  const q = storage(random(T * heads * d));
  const k = storage(random(T * kvHeads * d));
  const v = storage(random(T * kvHeads * d));
  const params = new ArrayBuffer(48);
  new Uint32Array(params).set([T, heads, kvHeads, d, d, 0]);
  new Float32Array(params)[6] = 1 / Math.sqrt(d);
  const p = device.createBuffer({ size: 48, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(p, 0, params);
  const flops = 2 * 2 * heads * d * ((T * (T + 1)) / 2);
  const line = { shape: name, T, heads, kvHeads, d };
  let reference = null;
  for (const dir of dirs) {
    const out = device.createBuffer({ size: T * heads * d * 4, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
    console.error(`${name}: ${dir}`);
    const code = shaderSource('attention_tiled', { dir });
    // head sizes as pipeline constants where the kernel takes them, as layers.ts attention() passes them
    const constants = code.includes('override HEAD_VEC4S') ? { HEAD_VEC4S: d / 4, VALUE_VEC4S: d / 4 } : {};
    const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module: device.createShaderModule({ code }), entryPoint: 'main', constants } });
    const group = device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: [p, q, k, v, out].map((buffer, binding) => ({ binding, resource: { buffer } })) });
    const queries = Number(/q(\d+)/.exec(dir.split('/').pop())?.[1] ?? 32);
    const us = (await timer.time((encoder) => dispatchPass(encoder, timer, pipeline, [group], DISPATCHES, Math.ceil(T / queries) * heads), QUICK ? 1 : 5)) / DISPATCHES;
    const values = await read(out, T * heads * d * 4);
    reference ??= values;
    let diff = 0;
    for (let i = 0; i < values.length; i++) diff = Math.max(diff, Math.abs(values[i] - reference[i]));
    line[dir === shaderDir ? 'production' : dir.split('/').pop()] = { us: +us.toFixed(1), tflops: +(flops / us / 1e6).toFixed(2), maxDiff: +diff.toExponential(2) };
  }
  console.log(JSON.stringify(line));
  results.push(line);
}
console.log(JSON.stringify({ attentionCost: results }));
process.exit(0);
