import { describe, expect, it } from 'vitest';
import { LIMITS_THAT_MATTER } from '../../src/gpu/adapter.ts';
import { testGpu } from '../helpers/gpu.ts';

describe('Node GPU helper', () => {
  it('returns a device and reports the adapter name, features and limits', async () => {
    const gpu = await testGpu();
    expect(gpu.adapter.name.length).toBeGreaterThan(0);
    for (const key of LIMITS_THAT_MATTER) expect(gpu.adapter.limits[key], key).toBeGreaterThan(0);
    // the device got the adapter's maximum storage binding, not the 128 MiB default
    expect(gpu.device.limits.maxStorageBufferBindingSize).toBe(gpu.adapter.limits.maxStorageBufferBindingSize);
    expect(Array.isArray(gpu.adapter.features)).toBe(true);
  });
});
