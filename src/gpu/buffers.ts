// Buffer helpers shared by kernels and tests: upload typed arrays, allocate outputs, read results back.

export type StorageArray = Float32Array | Uint32Array | Int32Array;

/**
 * Bytes to allocate for a storage buffer of byteLength: bindings must not be empty, and whole 16-byte
 * words, because some kernels read storage as array<vec4<…>> (tile_staging.wgsl), and an element of a
 * partial last word would be out of bounds.
 */
export function storageSize(byteLength: number): number {
  return Math.max(16, Math.ceil(byteLength / 16) * 16);
}

/**
 * What a kernel binds: a whole buffer, or a range of one (an offset that is a multiple of the device's
 * minStorageBufferOffsetAlignment; see RoutingArena in engine/routingArena.ts).
 */
export type Binding = GPUBuffer | GPUBufferBinding;

/** The bind group resource for a Binding. */
export function bindingResource(b: Binding): GPUBufferBinding {
  return 'buffer' in b ? b : { buffer: b };
}

/** WebGPU buffer sizes and writes must be multiples of 4 bytes; bindings must not be empty. */
function paddedSize(byteLength: number): number {
  return Math.max(4, Math.ceil(byteLength / 4) * 4);
}

export function storageBuffer(device: GPUDevice, byteLength: number, label?: string): GPUBuffer {
  return device.createBuffer({
    label: label ?? 'storage',
    size: storageSize(byteLength),
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
  });
}

export function uploadStorage(device: GPUDevice, data: StorageArray, label?: string): GPUBuffer {
  const buffer = storageBuffer(device, data.byteLength, label);
  device.queue.writeBuffer(buffer, 0, data.buffer, data.byteOffset, data.byteLength);
  return buffer;
}

export function uniformBuffer(device: GPUDevice, data: ArrayBuffer, label?: string): GPUBuffer {
  const buffer = device.createBuffer({
    label: label ?? 'params',
    size: paddedSize(data.byteLength),
    usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
  });
  device.queue.writeBuffer(buffer, 0, data);
  return buffer;
}

/** Copy `byteLength` bytes of `source` into a mappable buffer and return them once the GPU is done. */
export async function readBuffer(device: GPUDevice, source: Binding, byteLength: number): Promise<ArrayBuffer> {
  const { buffer, offset = 0 } = bindingResource(source);
  const size = paddedSize(byteLength);
  const staging = device.createBuffer({ label: 'readback', size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const encoder = device.createCommandEncoder({ label: 'readback' });
  encoder.copyBufferToBuffer(buffer, offset, staging, 0, size);
  device.queue.submit([encoder.finish()]);
  await staging.mapAsync(GPUMapMode.READ);
  const bytes = staging.getMappedRange().slice(0, byteLength);
  staging.unmap();
  staging.destroy();
  return bytes;
}

/** Workgroup counts for `count` workgroups: x up to the per-dimension limit, the rest in y. */
export function dispatchGrid(count: number, maxPerDimension: number): [number, number] {
  if (count <= maxPerDimension) return [Math.max(1, count), 1];
  return [maxPerDimension, Math.ceil(count / maxPerDimension)];
}
