// What WebGPU itself costs the host per compute dispatch, without MoEScope's code around it: records steps
// of 200 dispatches of a trivial kernel with 8 storage bindings (as a decode step records ~100–150) and
// prints µs per dispatch for encoding (setPipeline/setBindGroup/dispatchWorkgroups), finish and submit.
//   node tools/dispatch_cost.mjs [dawn flags…]      in Node through Dawn (dawn.node), e.g.
//                                                    enable-dawn-features=skip_validation
//   npx tsx tools/dispatch_cost.mjs --browser        in headless Chromium as the browser tests open it
//                                                    (test/helpers/browser.ts), where the page's calls are
//                                                    serialised to the GPU process and Dawn runs there
// Uses the `webgpu` package from NODE_PATH or node_modules (on a GPU host: after `source .gpu/setup.sh`).
import http from 'node:http';
import { createRequire } from 'node:module';

/**
 * The measurement, on `device`: self-contained (it is also sent to the browser as source text), using only
 * WebGPU and performance.now(). Returns the report's lines.
 */
async function measureDispatchCost(device) {
  const BINDINGS = 8;
  const DISPATCHES = 200;
  const STEPS = 50;
  const code = `
struct P { n: u32, a: u32, b: u32, c: u32 }
@group(0) @binding(0) var<uniform> p: P;
${Array.from({ length: BINDINGS }, (_, i) => `@group(0) @binding(${i + 1}) var<storage, ${i === BINDINGS - 1 ? 'read_write' : 'read'}> b${i}: array<f32>;`).join('\n')}
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) g: vec3u) {
  if (g.x >= p.n) { return; }
  b${BINDINGS - 1}[g.x] = ${Array.from({ length: BINDINGS - 1 }, (_, i) => `b${i}[g.x]`).join(' + ')};
}`;
  const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module: device.createShaderModule({ code }), entryPoint: 'main' } });
  const buffers = Array.from({ length: 40 }, () => device.createBuffer({ size: 4096, usage: GPUBufferUsage.STORAGE }));
  const params = device.createBuffer({ size: 16, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(params, 0, new Uint32Array([0, 0, 0, 0]));
  // a bind group per dispatch, over different buffers (one writable), as a recorded step has
  const groups = Array.from({ length: DISPATCHES }, (_, d) =>
    device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: [{ binding: 0, resource: { buffer: params } }, ...Array.from({ length: BINDINGS }, (_, i) => ({ binding: i + 1, resource: { buffer: buffers[(d * 3 + i * 5) % 40] } }))],
    }),
  );
  const lines = [];
  for (const round of [1, 2, 3]) {
    let encode = 0;
    let finish = 0;
    let submit = 0;
    for (let s = 0; s < STEPS; s++) {
      const t0 = performance.now();
      const encoder = device.createCommandEncoder();
      const pass = encoder.beginComputePass();
      for (let d = 0; d < DISPATCHES; d++) {
        pass.setPipeline(pipeline);
        pass.setBindGroup(0, groups[d]);
        pass.dispatchWorkgroups(1);
      }
      pass.end();
      const t1 = performance.now();
      const commands = encoder.finish();
      const t2 = performance.now();
      device.queue.submit([commands]);
      const t3 = performance.now();
      await device.queue.onSubmittedWorkDone();
      encode += t1 - t0;
      finish += t2 - t1;
      submit += t3 - t2;
    }
    const us = (ms) => ((ms / STEPS / DISPATCHES) * 1000).toFixed(2);
    lines.push(`round ${round}: µs per dispatch: encode ${us(encode)}, finish ${us(finish)}, submit ${us(submit)}`);
  }
  device.destroy();
  return lines;
}

/** In headless Chromium: a blank page served on 127.0.0.1 (WebGPU needs a secure context) runs the measurement. */
async function inBrowser() {
  const { openBrowser } = await import('../test/helpers/browser.ts'); // TypeScript: run under tsx
  const server = http.createServer((_, res) => res.end('<!doctype html><title>dispatch cost</title>'));
  await new Promise((ready) => server.listen(0, '127.0.0.1', ready));
  const browser = await openBrowser();
  try {
    await browser.page.goto(`http://127.0.0.1:${server.address().port}/`);
    const { description, lines } = await browser.page.evaluate(`(async () => {
      const adapter = await navigator.gpu.requestAdapter();
      const { vendor, architecture, description } = adapter.info;
      return { description: description || [vendor, architecture].join(' ').trim() || '(not named by the browser)', lines: await (${measureDispatchCost.toString()})(await adapter.requestDevice()) };
    })()`);
    console.log(`Chromium ${browser.context.browser()?.version() ?? ''}, adapter: ${description}`);
    for (const line of lines) console.log(line);
  } finally {
    await browser.close();
    server.close();
  }
}

/** In Node through the `webgpu` package (Dawn), with `flags`. */
async function inNode(flags) {
  const require = createRequire(import.meta.url);
  const dawn = require(process.env.NODE_PATH ? require.resolve('webgpu', { paths: process.env.NODE_PATH.split(':') }) : 'webgpu');
  const gpu = dawn.create(flags);
  Object.assign(globalThis, dawn.globals);
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  console.log(`Node ${process.version} + Dawn, adapter: ${adapter.info.vendor} ${adapter.info.architecture} ${adapter.info.description}; flags: ${flags.join(' ') || 'none'}`);
  for (const line of await measureDispatchCost(await adapter.requestDevice())) console.log(line);
}

const args = process.argv.slice(2);
if (args.includes('--browser')) await inBrowser();
else await inNode(args);
