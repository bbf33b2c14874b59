// Runs before `npm test`: both GPU harnesses need Debian's chromium (the browser, and its SwiftShader
// Vulkan driver for Dawn in Node) and the Vulkan loader libvulkan.so.1 that Dawn opens.
// As root, installs what is missing with apt-get; otherwise says what to install and fails.
import { execSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const CHROMIUM = '/usr/bin/chromium';
const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

function hasVulkanLoader() {
  try {
    return execSync('ldconfig -p', { encoding: 'utf8' }).includes('libvulkan.so.1 ');
  } catch {
    return false;
  }
}

const missing = [];
if (!existsSync(CHROMIUM) || !existsSync(SWIFTSHADER_ICD)) missing.push('chromium');
if (!hasVulkanLoader()) missing.push('libvulkan1');

if (missing.length === 0) process.exit(0);

// libvulkan1 without its recommended Mesa drivers: with Mesa's lavapipe registered as a system Vulkan
// driver, the bench's Chromium (ANGLE on Vulkan) picks it and its GPU process fails to start
// ("GrContext creation failed"), so every `bench --browser` test times out (seen 2026-12-07)
const installs = [
  ...(missing.includes('chromium') ? ['apt-get install -y chromium'] : []),
  ...(missing.includes('libvulkan1') ? ['apt-get install -y --no-install-recommends libvulkan1'] : []),
];
const command = installs.join(' && ');
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
if (!isRoot) {
  console.error(
    `MoEScope's tests need Debian's ${missing.join(' and ')} (headless Chromium with WebGPU on SwiftShader, ` +
      `and the Vulkan loader Dawn uses).\nInstall as root: apt-get update && ${command}\n` +
      `(Elsewhere: a Chromium at ${CHROMIUM} with ${SWIFTSHADER_ICD}, and libvulkan.so.1.)`,
  );
  process.exit(1);
}
console.log(`ensure-chromium: installing ${missing.join(', ')} (needed by the GPU and browser tests)…`);
execSync(`apt-get update && ${command}`, { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
