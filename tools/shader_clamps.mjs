// Which array indices of a kernel did robustness clamp? Dawn (as Chrome) compiles every WGSL index with a
// bounds clamp (a UMin in the SPIR-V) unless Tint can prove it in range: constants, `x % n`, loop counters
// with constant limits, and sums and products of those. A clamp in a hot loop costs instructions and keeps
// the driver from folding offsets into loads (docs/performance.md, eighth session). This compiles each
// shader with Dawn's dump_shaders toggle and counts the clamped indices by the memory they index.
//   VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json node tools/shader_clamps.mjs [name…]
//   SHADER_DIR=dir   compile the .wgsl files of dir in place of shaders/'s (as CANDIDATE_SHADERS elsewhere)
// Prints one line per shader: clamps on workgroup, private/function and storage arrays. Not part of CI.
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { shaderDir, shaderSource } from './shader_source.mjs';

const child = process.env.SHADER_CLAMPS_CHILD;
if (child) {
  // the child compiles one shader; Dawn prints the dump itself (not to JS), so the parent reads our output
  const require = createRequire(import.meta.url);
  const dawn = require(process.env.NODE_PATH ? require.resolve('webgpu', { paths: process.env.NODE_PATH.split(':') }) : 'webgpu');
  const gpu = dawn.create(['enable-dawn-features=dump_shaders,disable_symbol_renaming']);
  Object.assign(globalThis, dawn.globals);
  const adapter = await gpu.requestAdapter();
  const device = await adapter.requestDevice({
    requiredLimits: { maxComputeInvocationsPerWorkgroup: 256, maxComputeWorkgroupStorageSize: adapter.limits.maxComputeWorkgroupStorageSize },
  });
  const module = device.createShaderModule({ code: shaderSource(child, { dir: process.env.SHADER_DIR ?? shaderDir }) });
  device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
  await device.queue.onSubmittedWorkDone();
  process.exit(0);
}

const names = process.argv.slice(2).length
  ? process.argv.slice(2)
  : readdirSync(shaderDir).filter((f) => f.endsWith('.wgsl') && !f.includes('.subgroups.')).map((f) => f.replace('.wgsl', ''));
for (const name of names) {
  let out;
  try {
    out = execFileSync(process.execPath, [fileURLToPath(import.meta.url)], { env: { ...process.env, SHADER_CLAMPS_CHILD: name }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    out = `${e.stdout ?? ''}${e.stderr ?? ''}`;
  }
  const spirv = out.split('Dumped SPIRV disassembly')[1];
  if (!spirv) {
    console.log(`${name.padEnd(28)} (no entry point, or did not compile)`);
    continue;
  }
  const lines = spirv.split('\n').filter((l) => !l.includes('OpLine'));
  const counts = { workgroup: 0, private: 0, storage: 0 };
  lines.forEach((line, i) => {
    if (!/ UMin /.test(line)) return;
    const next = lines[i + 1] ?? '';
    if (next.includes('_ptr_Workgroup')) counts.workgroup++;
    else if (/_ptr_(Private|Function)/.test(next)) counts.private++;
    else if (next.includes('_ptr_StorageBuffer')) counts.storage++;
  });
  console.log(`${name.padEnd(28)} clamped indices: workgroup ${counts.workgroup}, private/function ${counts.private}, storage ${counts.storage}`);
}
