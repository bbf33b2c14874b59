// What one decode matrix-vector product costs the GPU, kernel alone: shaders/matvec_rows.wgsl at the layer
// shapes of the bench's models (one token, bf16 weights), timed over many dispatches in one compute pass
// (two timestamps for all of them), each dispatch on the next of several weight copies so that the bytes
// read exceed the L2 cache, as in a decode step where every layer reads weights of its own.
// Prints µs per dispatch and GB/s of weights read. A tool for choosing kernels; not part of CI.
//   node tools/matvec_cost.mjs [dawn flags…]          (on a GPU host after `source .gpu/setup.sh`)
//   CANDIDATE_SHADERS=dir1,dir2   also time matvec_rows with the .wgsl files of each dir replacing shaders/'s
//                                 (a dir named …rowsR… has R output rows per workgroup; 8 otherwise)
import { createRequire } from 'node:module';
import { dispatchPass, gpuTimer } from './timed_pass.mjs';
import { shaderDir, shaderSource } from './shader_source.mjs';

const require = createRequire(import.meta.url);
const dawn = require(process.env.NODE_PATH ? require.resolve('webgpu', { paths: process.env.NODE_PATH.split(':') }) : 'webgpu');
const flags = process.argv.slice(2);
const gpu = dawn.create(['disable-dawn-features=timestamp_quantization', ...flags]);
Object.assign(globalThis, dawn.globals);
const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
const subgroups = adapter.features.has('subgroups');
const device = await adapter.requestDevice({
  requiredFeatures: ['timestamp-query', ...(subgroups ? ['subgroups'] : [])],
  requiredLimits: { maxComputeWorkgroupStorageSize: adapter.limits.maxComputeWorkgroupStorageSize, maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize, maxBufferSize: adapter.limits.maxBufferSize },
});
device.addEventListener?.('uncapturederror', (e) => console.error('uncaptured', e.error?.message));
console.log(`adapter: ${adapter.info.vendor} ${adapter.info.architecture} ${adapter.info.description}; subgroups: ${subgroups}; flags: ${flags.join(' ') || 'none'}`);

function module(dir) {
  return device.createShaderModule({ code: shaderSource('matvec_rows', { dir, subgroups }) });
}

const H = 2048;
// name, outputs N, inputs K, norm folded in, output added to the residual stream
const SHAPES = [
  ['q/k/v (OLMoE, Qwen), norm folded', 6144, H, true, false],
  ['o_proj, into the residual', 2048, H, false, true],
  ['router 64 + normed row out', 64, H, true, false],
  ['granite q/k/v (1024)', 2048, 1024, true, false],
  ['one expert gate|up row block 2 × 5632 (Qwen shared)', 11264, H, false, false],
  ['LM head 50304', 50304, H, false, false],
];
const QUICK = process.env.QUICK === '1'; // a check that the tool runs (SwiftShader), not a measurement
const COPIES_BYTES = QUICK ? 1e6 : 256e6; // weight copies per shape: at least this many bytes, above any L2
const DISPATCHES = QUICK ? 2 : 96;

const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST;
const buffer = (bytes) => device.createBuffer({ size: Math.max(16, Math.ceil(bytes / 16) * 16), usage });
const timer = gpuTimer(device);

function params(N, K, norm, residual) {
  const b = new ArrayBuffer(80);
  const u = new Uint32Array(b);
  const f = new Float32Array(b);
  u.set([1, N, K, 0, N, N, N, 0, 0, 0, 0, 0]);
  f[12] = 1e-6; // eps
  u[13] = 0; // hasPending
  f[14] = 1; // residualScale
  u[15] = norm ? 1 : 0; // writeNormed
  u[16] = residual ? 1 : 0; // accumulate
  const p = device.createBuffer({ size: 80, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(p, 0, b);
  return p;
}

/** GPU µs per dispatch, over DISPATCHES dispatches in one pass. */
async function time(pipeline, groups, workgroups) {
  return (await timer.time((encoder) => dispatchPass(encoder, timer, pipeline, groups, DISPATCHES, workgroups), QUICK ? 1 : 8)) / DISPATCHES;
}

const dirs = [shaderDir, ...(process.env.CANDIDATE_SHADERS ? process.env.CANDIDATE_SHADERS.split(',') : [])];
const results = [];
for (const [name, N, K, norm, residual] of SHAPES) {
  const bytes = N * K * 2;
  const copies = Math.max(2, Math.ceil(COPIES_BYTES / bytes));
  const weights = Array.from({ length: copies }, () => buffer(bytes));
  const x = buffer(K * 4);
  device.queue.writeBuffer(x, 0, new Float32Array(K).fill(0.5));
  const g = buffer(K * 2);
  const y = buffer(N * 4);
  const normed = buffer(K * 4);
  const spare = [buffer(16), buffer(16)];
  const pending = buffer(16);
  const p = params(N, K, norm, residual);
  const line = { shape: name, N, K, mb: +(bytes / 1e6).toFixed(2) };
  for (const dir of dirs) {
    const pipeline = device.createComputePipeline({
      layout: 'auto',
      compute: { module: module(dir), entryPoint: 'main', constants: { WEIGHT_DTYPE: 1, ...(norm ? { NORM: 1, NORMED_VEC4S: K / 4 } : {}) } },
    });
    const layout = pipeline.getBindGroupLayout(0);
    // as linear() binds them: params, x, weights, bias (the weights again), y0, y1, y2 (the normed row), norm weight, pending branch
    const groups = weights.map((w) =>
      device.createBindGroup({ layout, entries: [p, x, w, w, y, spare[0], norm ? normed : spare[1], g, pending].map((buffer, binding) => ({ binding, resource: { buffer } })) }),
    );
    const rows = Number(/rows(\d+)/.exec(dir)?.[1] ?? 8); // a candidate dir named …rowsR… holds R rows per workgroup
    const us = await time(pipeline, groups, Math.ceil(N / rows));
    line[dir === shaderDir ? 'production' : dir] = { us: +us.toFixed(2), gbs: Math.round(bytes / us / 1e3) };
  }
  console.log(JSON.stringify(line));
  results.push(line);
  for (const w of weights) w.destroy();
}
console.log(JSON.stringify({ matvecCost: results }));
process.exit(0);
