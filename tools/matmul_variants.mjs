// Which tiling makes the prefill multiplies fastest on this adapter? Times y = x · Wᵀ (x f32 [M, K], W bf16
// [N, K], as matmul.wgsl and the grouped expert multiplies compute it) for the production kernel
// (shaders/matmul.wgsl) and for generated variants: output tile TM × TN, RM × RN outputs per thread, STEP
// inputs staged per barrier, with 16-byte loads into the staging registers (8 bf16 or 4 f32 per load).
// Every variant's output is checked against a CPU dot product at sampled positions before it is timed.
//   node tools/matmul_variants.mjs [M N K] [dawn flags…]   (on a GPU host after `source .gpu/setup.sh`)
//   VARIANTS='[{"TM":32,"TN":128,"RM":4,"RN":8,"STEP":16,"rot":true}]'   other variants (fields: see variant();
//     with "layout":"rows", row-major tiles: see rowVariant(), e.g. {"layout":"rows","STEP":16,"own":"contiguous","xor8":true})
//   CANDIDATE_SHADERS=dir1,dir2   also time matmul.wgsl with the .wgsl files of each dir replacing shaders/'s
// Prints one line per variant and a JSON line at the end. A tool for choosing kernels; not part of CI.
import { createRequire } from 'node:module';
import { shaderSource } from './shader_source.mjs';

const require = createRequire(import.meta.url);
const dawn = require(process.env.NODE_PATH ? require.resolve('webgpu', { paths: process.env.NODE_PATH.split(':') }) : 'webgpu');
const args = process.argv.slice(2);
const dims = args.filter((a) => /^\d+$/.test(a)).map(Number);
const flags = args.filter((a) => !/^\d+$/.test(a));
const [M, N, K] = dims.length === 3 ? dims : [4096, 2048, 2048];
const gpu = dawn.create(flags);
Object.assign(globalThis, dawn.globals);
const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
const device = await adapter.requestDevice({
  requiredLimits: { maxComputeInvocationsPerWorkgroup: 256, maxComputeWorkgroupStorageSize: adapter.limits.maxComputeWorkgroupStorageSize },
});
device.addEventListener?.('uncapturederror', (e) => console.error('uncaptured', e.error?.message));
console.log(`adapter: ${adapter.info.vendor} ${adapter.info.architecture} ${adapter.info.description}; M N K = ${M} ${N} ${K}; flags: ${flags.join(' ') || 'none'}`);

// --- the production kernel (tools/shader_source.mjs); CANDIDATE_SHADERS=dir: files there replace shaders/ ones in a second copy ---
const shader = (name, dir) => shaderSource(name, { dir });

// --- generated variants ---
/** The generated kernels' Params and buffers (the tool binds M, N, K, x, w, y), y of `yElement`s. */
function bindings(yElement) {
  return `struct P { M: u32, N: u32, K: u32, pad: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> w: array<vec4<u32>>;
@group(0) @binding(3) var<storage, read_write> y: array<${yElement}>;`;
}

/** WGSL for the bf16 value in the low (`low`) or high half of the u32 expression `word`, as f32. */
function bf16Value(word, low) {
  return low ? `bitcast<f32>(${word} << 16u)` : `bitcast<f32>(${word} & 0xffff0000u)`;
}

/** The staging loads of a step at input k (a: LA 16-byte f32 chunks per thread; b: LB 16-byte bf16 chunks), as the generated kernels declare them. */
function stagingLoads({ LA, LB, NT, CA, CB }, k) {
  return [
    ...Array.from({ length: LA }, (_, l) => `sa${l} = select(vec4<f32>(0.0), x[(t0 + aRow + ${(NT / CA) * l}u) * K4 + (${k}) / 4u + aCh], t0 + aRow + ${(NT / CA) * l}u < p.M);`),
    ...Array.from({ length: LB }, (_, l) => `sb${l} = select(vec4<u32>(0u), w[(n0 + bRow + ${(NT / CB) * l}u) * K8 + (${k}) / 8u + bCh], n0 + bRow + ${(NT / CB) * l}u < p.N);`),
  ].join('\n    ');
}

/**
 * Tiles: aT[c][row group ^ fa(c)] and bT[c][row group ^ fb(c)], four rows to a vec4, as tile_multiply.wgsl;
 * the swizzles keep each staging store of a subgroup of 32 on 32 banks. Thread (tx, ty) owns row groups
 * ty + NTY·i and column groups tx + NTX·j; with `warp: [wx, wy]` a subgroup of 32 covers wx values of tx
 * and wy of ty (fewer distinct tile reads per subgroup), else 32 consecutive invocations of (tx, ty).
 */
function variant({ TM, TN, RM, RN, STEP, unroll, db, rot, warp }) {
  const NTX = TN / RN, NTY = TM / RM, NT = NTX * NTY;
  const RGA = TM / 4, RGB = TN / 4;
  const CA = STEP / 4, CB = STEP / 8; // 16-byte chunks per row and step: a (f32), b (bf16)
  const LA = (TM * CA) / NT, LB = (TN * CB) / NT;
  if (!Number.isInteger(LA) || !Number.isInteger(LB) || LA < 1 || LB < 1) return null;
  // the swizzle: slot = row group XOR f, or (with rot) row group + f modulo the row groups, a form whose
  // range a compiler can bound (so that bounds clamping can be dropped)
  const sw = (g, f, groups) => (rot ? `(((${g}) + ${f}) % ${groups}u)` : `((${g}) ^ ${f})`);
  const base = (b) => (db ? `${b} + ` : '');
  const fa = (c) => `${Math.floor(c / 4) * (32 / STEP)}u`;
  const fb = (c) => `${Math.floor(c / 8) * (64 / STEP)}u`;
  const accs = [];
  for (let i = 0; i < RM / 4; i++) for (let r = 0; r < 4; r++) for (let j = 0; j < RN / 4; j++) accs.push(`acc_${i}_${r}_${j}`);
  const body = (c) => {
    const lines = [];
    for (let i = 0; i < RM / 4; i++) lines.push(`let a${i} = aT[${base('aBase')}${c} * ${RGA}u + ${sw(`ty + ${NTY * i}u`, typeof c === 'number' ? fa(c) : `((${c} / 4u) * ${32 / STEP}u)`, RGA)}];`);
    for (let j = 0; j < RN / 4; j++) lines.push(`let b${j} = bT[${base('bBase')}${c} * ${RGB}u + ${sw(`tx + ${NTX * j}u`, typeof c === 'number' ? fb(c) : `((${c} / 8u) * ${64 / STEP}u)`, RGB)}];`);
    for (let i = 0; i < RM / 4; i++) for (let r = 0; r < 4; r++) for (let j = 0; j < RN / 4; j++) lines.push(`acc_${i}_${r}_${j} += a${i}[${r}] * b${j};`);
    return lines.join('\n      ');
  };
  const inner = unroll
    ? Array.from({ length: STEP }, (_, c) => `{\n      ${body(c)}\n    }`).join('\n    ')
    : `for (var c = 0u; c < ${STEP}u; c++) {\n      ${body('c')}\n    }`;
  const storeA = [];
  for (let l = 0; l < LA; l++) {
    storeA.push(`{ let row = aRow + ${(NT / CA) * l}u; let v = sa${l};`);
    for (let e = 0; e < 4; e++) storeA.push(`  aT[${base('aBase')}(4u * aCh + ${e}u) * ${RGA}u + ${sw('row / 4u', `(aCh * ${32 / STEP}u)`, RGA)}][row % 4u] = v[${e}];`);
    storeA.push('}');
  }
  const storeB = [];
  for (let l = 0; l < LB; l++) {
    storeB.push(`{ let row = bRow + ${(NT / CB) * l}u; let v = sb${l};`);
    for (let e = 0; e < 8; e++) {
      const word = 'xyzw'[e >> 1];
      const val = bf16Value(`v.${word}`, e % 2 === 0);
      storeB.push(`  bT[${base('bBase')}(8u * bCh + ${e}u) * ${RGB}u + ${sw('row / 4u', `(bCh * ${64 / STEP}u)`, RGB)}][row % 4u] = ${val};`);
    }
    storeB.push('}');
  }
  const loads = (k) => stagingLoads({ LA, LB, NT, CA, CB }, k);
  const writes = [];
  for (let i = 0; i < RM / 4; i++)
    for (let r = 0; r < 4; r++)
      for (let j = 0; j < RN / 4; j++) {
        writes.push(`{ let row = t0 + 4u * (ty + ${NTY * i}u) + ${r}u; let col = n0 + 4u * (tx + ${NTX * j}u);`);
        writes.push(`  if (row < p.M && col < p.N) { y[(row * p.N + col) / 4u] = acc_${i}_${r}_${j}; } }`);
      }
  return {
    name: `${TM}x${TN} ${RM}x${RN}/thread s${STEP}${unroll ? ' unrolled' : ''}${db ? ' double-buffered' : ''}${rot ? ' rotated' : ''}${warp ? ` warps ${warp.join('x')}` : ''}`,
    wg: [NTX, NTY],
    grid: [Math.ceil(N / TN), Math.ceil(M / TM)],
    code: `
${bindings('vec4<f32>')}
var<workgroup> aT: array<vec4<f32>, ${STEP * RGA * (db ? 2 : 1)}>;
var<workgroup> bT: array<vec4<f32>, ${STEP * RGB * (db ? 2 : 1)}>;
@compute @workgroup_size(${NTX}, ${NTY})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) local: vec3u, @builtin(local_invocation_index) li: u32) {
  ${warp ? `let lane = li % 32u; let wi = li / 32u; let tx = (wi % ${NTX / warp[0]}u) * ${warp[0]}u + lane % ${warp[0]}u; let ty = (wi / ${NTX / warp[0]}u) * ${warp[1]}u + lane / ${warp[0]}u;` : 'let tx = local.x; let ty = local.y;'}
  let t0 = wid.y * ${TM}u; let n0 = wid.x * ${TN}u;
  let K4 = p.K / 4u; let K8 = p.K / 8u;
  let aRow = li / ${CA}u; let aCh = li % ${CA}u;
  let bRow = li / ${CB}u; let bCh = li % ${CB}u;
  ${accs.map((a) => `var ${a} = vec4<f32>(0.0);`).join(' ')}
  ${Array.from({ length: LA }, (_, l) => `var sa${l}: vec4<f32>;`).join(' ')}
  ${Array.from({ length: LB }, (_, l) => `var sb${l}: vec4<u32>;`).join(' ')}
  ${loads('0u')}
  for (var k0 = 0u; k0 < p.K; k0 += ${STEP}u) {
    ${db ? `let aBase = ((k0 / ${STEP}u) % 2u) * ${STEP * RGA}u; let bBase = ((k0 / ${STEP}u) % 2u) * ${STEP * RGB}u;` : ''}
    ${storeA.join('\n    ')}
    ${storeB.join('\n    ')}
    workgroupBarrier();
    if (k0 + ${STEP}u < p.K) {
    ${loads(`k0 + ${STEP}u`)}
    }
    ${inner}
    ${db ? '' : 'workgroupBarrier();'}
  }
  ${writes.join('\n  ')}
}`,
  };
}

/**
 * Row-major tiles: aT[row][chunk], bT[row][chunk], a chunk being 4 inputs (one vec4), so that a thread
 * stores what it loaded as whole vec4s (a: its 4 f32 inputs; b: its 8 bf16 inputs as two vec4s) where the
 * input-major tiles above take 24 scalar stores per thread and step. Row R's chunk c sits at
 * R·(C + pad) + (xor ? c ^ ((R / 4) % C) : c), C = STEP / 4. 64 × 128 outputs per workgroup of 16 × 8, 8 × 8
 * per thread: `own: 'contiguous'` rows 4ty … +3 and 32 + 4ty … +3, columns 4tx … +3 and 64 + 4tx … +3 (as
 * tile_multiply_64.wgsl, vec4 outputs); `own: 'strided'` rows ty + 8i, columns tx + 16j (scalar outputs).
 */
function rowVariant({ STEP, own, pad = 0, xor = false, xor8 = false, rot = false }) {
  const TM = 64, TN = 128, NT = 128;
  const C = STEP / 4, P = C + pad;
  const CA = C, CB = STEP / 8; // 16-byte loads per row and step: a (f32), b (bf16)
  const LA = (TM * CA) / NT, LB = (TN * CB) / NT;
  const strided = own === 'strided';
  // xor8: the whole index XOR (R / 4) % 8 (moves a chunk within its aligned block of 8: tile_staging.wgsl's
  // tileSlot); rot: chunk (c + R / 4) % C
  const slot = (R, c) =>
    xor8 ? `(((${R}) * ${P}u + (${c})) ^ (((${R}) / 4u) % 8u))`
    : `(${R}) * ${P}u + ${xor ? `((${c}) ^ (((${R}) / 4u) % ${C}u))` : rot ? `(((${c}) + (${R}) / 4u) % ${C}u)` : `(${c})`}`;
  const rowOf = (i) => (strided ? `ty + ${8 * i}u` : `4u * ty + ${(i % 4) + 32 * Math.floor(i / 4)}u`);
  const colOf = (j) => (strided ? `tx + ${16 * j}u` : `4u * tx + ${(j % 4) + 64 * Math.floor(j / 4)}u`);
  const inner = [];
  for (let c = 0; c < C; c++) {
    inner.push('{');
    for (let i = 0; i < 8; i++) inner.push(`  let a${i} = aT[${slot(rowOf(i), `${c}u`)}];`);
    for (let j = 0; j < 8; j++) {
      inner.push(`  { let b = bT[${slot(colOf(j), `${c}u`)}];`);
      for (const e of 'xyzw') for (let i = 0; i < 8; i++) inner.push(`    acc_${i}_${j} += a${i}.${e} * b.${e};`);
      inner.push('  }');
    }
    inner.push('}');
  }
  const stores = [];
  for (let l = 0; l < LA; l++) stores.push(`aT[${slot(`aRow + ${(NT / CA) * l}u`, 'aCh')}] = sa${l};`);
  for (let l = 0; l < LB; l++) {
    const v = `sb${l}`;
    stores.push(`bT[${slot(`bRow + ${(NT / CB) * l}u`, '2u * bCh')}] = vec4<f32>(${bf16Value(`${v}.x`, true)}, ${bf16Value(`${v}.x`, false)}, ${bf16Value(`${v}.y`, true)}, ${bf16Value(`${v}.y`, false)});`);
    stores.push(`bT[${slot(`bRow + ${(NT / CB) * l}u`, '2u * bCh + 1u')}] = vec4<f32>(${bf16Value(`${v}.z`, true)}, ${bf16Value(`${v}.z`, false)}, ${bf16Value(`${v}.w`, true)}, ${bf16Value(`${v}.w`, false)});`);
  }
  const loads = (k) => stagingLoads({ LA, LB, NT, CA, CB }, k);
  const writes = [];
  for (let i = 0; i < 8; i++) {
    if (strided) {
      for (let j = 0; j < 8; j++) writes.push(`{ let row = t0 + ${rowOf(i)}; let col = n0 + ${colOf(j)}; if (row < p.M && col < p.N) { y[row * p.N + col] = acc_${i}_${j}; } }`);
    } else {
      for (let g = 0; g < 2; g++) {
        const js = [0, 1, 2, 3].map((q) => `acc_${i}_${4 * g + q}`).join(', ');
        writes.push(`{ let row = t0 + ${rowOf(i)}; let col = n0 + ${colOf(4 * g)}; if (row < p.M && col < p.N) { y[(row * p.N + col) / 4u] = vec4<f32>(${js}); } }`);
      }
    }
  }
  const accs = [];
  for (let i = 0; i < 8; i++) for (let j = 0; j < 8; j++) accs.push(`var acc_${i}_${j} = 0.0;`);
  return {
    name: `64x128 8x8/thread s${STEP} row-major ${own}${pad ? ` pad ${pad}` : ''}${xor ? ' xor' : ''}${xor8 ? ' xor8' : ''}${rot ? ' rot' : ''}`,
    grid: [Math.ceil(N / TN), Math.ceil(M / TM)],
    code: `
${bindings(strided ? 'f32' : 'vec4<f32>')}
var<workgroup> aT: array<vec4<f32>, ${TM * P}>;
var<workgroup> bT: array<vec4<f32>, ${TN * P}>;
@compute @workgroup_size(16, 8)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) local: vec3u, @builtin(local_invocation_index) li: u32) {
  let tx = local.x; let ty = local.y;
  let t0 = wid.y * ${TM}u; let n0 = wid.x * ${TN}u;
  let K4 = p.K / 4u; let K8 = p.K / 8u;
  let aRow = li / ${CA}u; let aCh = li % ${CA}u;
  let bRow = li / ${CB}u; let bCh = li % ${CB}u;
  ${accs.join(' ')}
  ${Array.from({ length: LA }, (_, l) => `var sa${l}: vec4<f32>;`).join(' ')}
  ${Array.from({ length: LB }, (_, l) => `var sb${l}: vec4<u32>;`).join(' ')}
  ${loads('0u')}
  for (var k0 = 0u; k0 < p.K; k0 += ${STEP}u) {
    ${stores.join('\n    ')}
    workgroupBarrier();
    if (k0 + ${STEP}u < p.K) {
    ${loads(`k0 + ${STEP}u`)}
    }
    ${inner.join('\n    ')}
    workgroupBarrier();
  }
  ${writes.join('\n  ')}
}`,
  };
}

// --- data ---
function bf16(f) {
  const u = new Uint32Array(new Float32Array([f]).buffer)[0];
  return (u + 0x7fff + ((u >> 16) & 1)) >>> 16;
}
let seed = 12345;
const rand = () => ((seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
const xHost = new Float32Array(M * K).map(rand);
const wBits = new Uint16Array(N * K).map(() => bf16(rand()));
const wValue = (i) => new Float32Array(new Uint32Array([wBits[i] << 16]).buffer)[0];
const make = (data, usage) => {
  const b = device.createBuffer({ size: Math.max(16, data.byteLength), usage, mappedAtCreation: true });
  new Uint8Array(b.getMappedRange()).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  b.unmap();
  return b;
};
const S = GPUBufferUsage.STORAGE;
const xBuf = make(xHost, S);
const wBuf = make(wBits, S);
const yBuf = device.createBuffer({ size: M * N * 4, usage: S | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
const dummy = [0, 1, 2].map(() => device.createBuffer({ size: 16, usage: S })); // y1, y2, partials (matmul.wgsl)
const readBuf = device.createBuffer({ size: M * N * 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
const uniform = (words) => make(new Uint32Array(words), GPUBufferUsage.UNIFORM);

const samples = Array.from({ length: 512 }, (_, i) => [Math.floor(((i * 7919) % 997) / 997 * M), Math.floor(((i * 104729) % 991) / 991 * N)]);
const expected = samples.map(([m, n]) => {
  let s = 0;
  for (let k = 0; k < K; k++) s += xHost[m * K + k] * wValue(n * K + k);
  return s;
});

async function run(v) {
  device.pushErrorScope('validation');
  const module = device.createShaderModule({ code: v.code });
  const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main', constants: v.constants } });
  const bind = device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: v.entries.map((buffer, binding) => ({ binding, resource: { buffer } })) });
  const err = await device.popErrorScope();
  if (err) return { name: v.name, error: err.message.slice(0, 400) };
  const go = (times) => {
    const enc = device.createCommandEncoder();
    const pass = enc.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bind);
    for (let i = 0; i < times; i++) pass.dispatchWorkgroups(...v.grid);
    pass.end();
    device.queue.submit([enc.finish()]);
    return device.queue.onSubmittedWorkDone();
  };
  const enc = device.createCommandEncoder();
  enc.clearBuffer(yBuf);
  device.queue.submit([enc.finish()]);
  await go(1);
  const copy = device.createCommandEncoder();
  copy.copyBufferToBuffer(yBuf, 0, readBuf, 0, M * N * 4);
  device.queue.submit([copy.finish()]);
  await readBuf.mapAsync(GPUMapMode.READ);
  const y = new Float32Array(readBuf.getMappedRange().slice(0));
  readBuf.unmap();
  let worst = 0;
  samples.forEach(([m, n], i) => (worst = Math.max(worst, Math.abs(y[m * N + n] - expected[i]))));
  await go(v.warmUp ?? 3);
  const reps = 20;
  let best = Infinity;
  for (let round = 0; round < 3; round++) {
    const t = performance.now();
    await go(reps);
    best = Math.min(best, (performance.now() - t) / reps);
  }
  return { name: v.name, ms: +best.toFixed(3), tflops: +((2 * M * N * K) / best / 1e9).toFixed(2), maxErr: +worst.toExponential(2) };
}

/** matmul.wgsl from `dir` (shaders/ when absent), its grid from the tile rows it declares. */
function productionKernel(dir) {
  const code = shader('matmul', dir);
  const rows = Number(/const A_ROWS: u32 = (\d+)u/.exec(code)?.[1] ?? 32);
  return { code, name: `${dir ? `production with ${dir}` : 'production matmul.wgsl'} (${rows}x128)`, grid: [Math.ceil(N / 128), Math.ceil(M / rows)] };
}
const production = {
  ...productionKernel(),
  constants: { WEIGHT_DTYPE: 1, VECTOR_LOADS: K % 8 === 0 ? 1 : 0 },
  // Params (linear_output.wgsl): T, N, K, no bias, one part (split1 = split2 = N, strides N), …, kChunk = K, one split
  entries: [uniform([M, N, K, 0, N, N, N, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, K, 1, 0]), xBuf, wBuf, wBuf, yBuf, ...dummy],
};
const candidates = (process.env.CANDIDATE_SHADERS ?? '').split(',').filter(Boolean).map((dir) => ({ ...production, ...productionKernel(dir) }));
const configs = process.env.VARIANTS ? JSON.parse(process.env.VARIANTS) : [
  { TM: 64, TN: 64, RM: 4, RN: 4, STEP: 32 },
  { TM: 64, TN: 64, RM: 4, RN: 4, STEP: 32, rot: true },
  { TM: 64, TN: 64, RM: 4, RN: 4, STEP: 32, db: true },
  { TM: 32, TN: 128, RM: 4, RN: 8, STEP: 16 },
  { TM: 32, TN: 128, RM: 4, RN: 8, STEP: 16, rot: true },
  { TM: 32, TN: 128, RM: 4, RN: 8, STEP: 16, unroll: true },
  { TM: 32, TN: 128, RM: 4, RN: 8, STEP: 32 },
  { TM: 64, TN: 128, RM: 4, RN: 8, STEP: 16 },
  { TM: 64, TN: 128, RM: 8, RN: 8, STEP: 16 },
  { TM: 64, TN: 128, RM: 8, RN: 8, STEP: 16, rot: true },
  { TM: 128, TN: 128, RM: 8, RN: 8, STEP: 16 },
  { TM: 32, TN: 64, RM: 4, RN: 4, STEP: 32 },
];
const results = [];
// the GPU's clocks: a second of the production kernel first, or the first timing reads slow
await run({ ...production, warmUp: 300 });
for (const v of [production, ...candidates, ...configs.map((c) => (c.layout === 'rows' ? rowVariant(c) : variant(c))).filter(Boolean)]) {
  if (!v.entries) v.entries = [uniform([M, N, K, 0]), xBuf, wBuf, yBuf];
  const r = await run(v);
  results.push(r);
  console.log(r.error ? `${r.name}: ERROR ${r.error}` : `${r.name.padEnd(48)} ${String(r.ms).padStart(8)} ms ${String(r.tflops).padStart(6)} TFLOPS  max err ${r.maxErr}`);
  if (process.env.DUMP && r.name.includes(process.env.DUMP)) console.log(v.code);
}
console.log(JSON.stringify({ adapter: adapter.info.description, M, N, K, flags, results }));
