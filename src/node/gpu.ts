// A GpuContext in Node through the `webgpu` package (Dawn). Prefers a real GPU; without one, falls back to
// SwiftShader, the CPU Vulkan driver inside Debian's chromium package. Dawn reads VK_ICD_FILENAMES when it
// creates its Vulkan instance, so the fallback sets it and then starts a second instance.

import { existsSync } from 'node:fs';
import { describeAdapter, requestFullDevice } from '../gpu/adapter.ts';
import { preferSubgroups } from '../gpu/subgroups.ts';
import { GpuContext } from '../gpu/context.ts';
import { nodeShaderLibrary } from './shaderLibrary.ts';

export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

export class GpuUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GpuUnavailableError';
  }
}

type Dawn = typeof import('webgpu');

// Every Dawn instance this process created. A GPU object that is garbage-collected while its devices live
// frees the instance under them, and the next event poll crashes the process: keep them all reachable.
const liveInstances: GPU[] = [];

function newInstance(dawn: Dawn): GPU {
  // Dawn rounds timestamps to 100 µs by default (a browser privacy measure); the bench's per-kernel
  // profile needs them exact. Buffers created mapped are zero-filled first unless told not to: the
  // checkpoint upload (the only user) writes every byte of them, and skipping the fill took OLMoE's 13.8 GB
  // load from 1.17 to 1.53 GB/s on an H100 host. MOESCOPE_DAWN_FLAGS adds Dawn flags for experiments
  // (space-separated, e.g. "enable-dawn-features=skip_validation"); reported figures use none.
  const extra = process.env.MOESCOPE_DAWN_FLAGS?.split(/\s+/).filter(Boolean) ?? [];
  const gpu = dawn.create(['disable-dawn-features=timestamp_quantization', 'enable-dawn-features=disable_lazy_clear_for_mapped_at_creation_buffer', ...extra]);
  liveInstances.push(gpu);
  return gpu;
}

async function loadDawn(): Promise<Dawn> {
  try {
    const dawn = await import('webgpu');
    Object.assign(globalThis, dawn.globals);
    return dawn;
  } catch (error) {
    throw new GpuUnavailableError(`the 'webgpu' package (Dawn for Node) could not be loaded: ${String(error)}. Run 'npm ci'.`);
  }
}

export interface NodeGpuOptions {
  /** Skip the real-GPU attempt and use SwiftShader (reproducible CPU results). */
  forceSwiftShader?: boolean;
  /** false: the plain kernels even where the subgroup variants would run (to compare the two). */
  subgroups?: boolean;
}

export async function createNodeGpu(options: NodeGpuOptions = {}): Promise<GpuContext> {
  const dawn = await loadDawn();
  const userChoseDriver = Boolean(process.env.VK_ICD_FILENAMES || process.env.VK_DRIVER_FILES);
  let adapter: GPUAdapter | null = null;
  if (!options.forceSwiftShader || userChoseDriver) {
    adapter = await newInstance(dawn).requestAdapter({ powerPreference: 'high-performance' });
  }
  if (!adapter && !userChoseDriver) {
    if (!existsSync(SWIFTSHADER_ICD)) {
      throw new GpuUnavailableError(
        `no GPU adapter found and no SwiftShader fallback: ${SWIFTSHADER_ICD} is missing. ` +
          `Install it with 'apt-get install -y chromium libvulkan1' (Debian), or run on a machine with a Vulkan GPU driver.`,
      );
    }
    process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
    adapter = await newInstance(dawn).requestAdapter();
  }
  if (!adapter) {
    const driver = process.env.VK_ICD_FILENAMES ?? process.env.VK_DRIVER_FILES ?? 'the system Vulkan drivers';
    throw new GpuUnavailableError(
      `Dawn found no WebGPU adapter using ${driver}. Dawn needs libvulkan.so.1 ('apt-get install -y libvulkan1') ` +
        `and a working Vulkan driver; its warnings above say which step failed.`,
    );
  }
  const device = await requestFullDevice(adapter, 'moescope-node');
  const ctx = new GpuContext(device, describeAdapter(adapter), nodeShaderLibrary());
  return options.subgroups === false ? ctx : preferSubgroups(ctx);
}
