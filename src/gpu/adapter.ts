// What an adapter is and can do, in a form the UI, the CLI and test logs can print.

/** The limits MoEScope's memory plan and kernels depend on. */
export const LIMITS_THAT_MATTER = [
  'maxBufferSize',
  'maxStorageBufferBindingSize',
  'maxStorageBuffersPerShaderStage',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupsPerDimension',
] as const;

/** Optional features the kernels use when present; each has a plain fallback. */
export const WANTED_FEATURES: readonly GPUFeatureName[] = ['shader-f16', 'subgroups', 'timestamp-query'];

export interface AdapterReport {
  /** One line for people: "nvidia hopper (NVIDIA H100 ...)" or "google swiftshader (SwiftShader driver 5.0.0)". */
  name: string;
  vendor: string;
  architecture: string;
  description: string;
  /** True for a CPU implementation such as SwiftShader. */
  isFallback: boolean;
  features: string[];
  limits: Record<(typeof LIMITS_THAT_MATTER)[number], number>;
}

export function describeAdapter(adapter: GPUAdapter): AdapterReport {
  const info = adapter.info;
  const vendor = info.vendor || 'unknown vendor';
  const architecture = info.architecture || info.device || 'unknown architecture';
  const description = info.description || '';
  const limits = {} as AdapterReport['limits'];
  for (const key of LIMITS_THAT_MATTER) limits[key] = adapter.limits[key];
  return {
    name: description ? `${vendor} ${architecture} (${description})` : `${vendor} ${architecture}`,
    vendor,
    architecture,
    description,
    isFallback: Boolean((info as GPUAdapterInfo & { isFallbackAdapter?: boolean }).isFallbackAdapter),
    features: [...adapter.features].map(String).sort(),
    limits,
  };
}

/** Ask for every wanted feature the adapter has and the adapter's maximum limits: real models need them. */
export async function requestFullDevice(adapter: GPUAdapter, label = 'moescope'): Promise<GPUDevice> {
  const requiredFeatures = WANTED_FEATURES.filter((f) => adapter.features.has(f));
  const requiredLimits: Record<string, number> = {};
  for (const key of LIMITS_THAT_MATTER) requiredLimits[key] = adapter.limits[key];
  return adapter.requestDevice({ label, requiredFeatures, requiredLimits });
}
