// A GpuContext from the browser's navigator.gpu, or a typed reason why there is none.

import { describeAdapter, requestFullDevice } from '../gpu/adapter.ts';
import { GpuContext } from '../gpu/context.ts';
import { preferSubgroups } from '../gpu/subgroups.ts';
import { browserShaderLibrary } from './shaderLibrary.ts';

export class WebGpuUnsupportedError extends Error {
  constructor(reason: string) {
    super(
      `${reason} MoEScope needs WebGPU: use Chrome or Edge 113+ (on Linux start it with --enable-unsafe-webgpu ` +
        `and --enable-features=Vulkan), Safari 26+, or Firefox 141+ on Windows.`,
    );
    this.name = 'WebGpuUnsupportedError';
  }
}

export async function createBrowserGpu(): Promise<GpuContext> {
  if (typeof navigator === 'undefined' || !('gpu' in navigator) || !navigator.gpu) {
    throw new WebGpuUnsupportedError('This browser does not expose navigator.gpu.');
  }
  const adapter = await navigator.gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) throw new WebGpuUnsupportedError('navigator.gpu is present but returned no adapter (GPU blocklisted or disabled).');
  const device = await requestFullDevice(adapter, 'moescope-browser');
  return preferSubgroups(new GpuContext(device, describeAdapter(adapter), browserShaderLibrary()));
}
