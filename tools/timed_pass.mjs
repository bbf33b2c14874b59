// Timestamps around GPU work, for the measuring tools (dispatch_gpu_cost, matvec_cost): what the GPU itself
// spends, without the host. Needs a device with 'timestamp-query'; create the Dawn instance with
// 'disable-dawn-features=timestamp_quantization' for exact times.

/** A timer over one query set of two timestamps: `record(encoder)` writes them (see dispatchPass). */
export function gpuTimer(device) {
  const querySet = device.createQuerySet({ type: 'timestamp', count: 2 });
  const resolve = device.createBuffer({ size: 16, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
  const readback = device.createBuffer({ size: 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  return {
    querySet,
    /** GPU µs between the two timestamps `record` writes, best of `runs` submissions. */
    async time(record, runs = 20) {
      let best = Infinity;
      for (let r = 0; r < runs; r++) {
        const encoder = device.createCommandEncoder();
        record(encoder);
        encoder.resolveQuerySet(querySet, 0, 2, resolve, 0);
        encoder.copyBufferToBuffer(resolve, 0, readback, 0, 16);
        device.queue.submit([encoder.finish()]);
        await readback.mapAsync(GPUMapMode.READ);
        const [t0, t1] = new BigUint64Array(readback.getMappedRange().slice(0));
        readback.unmap();
        best = Math.min(best, Number(t1 - t0) / 1000);
      }
      return best;
    },
  };
}

/** One compute pass timed from its start to its end: `count` dispatches of `pipeline`, bind groups in turn. */
export function dispatchPass(encoder, timer, pipeline, groups, count, workgroups) {
  const pass = encoder.beginComputePass({ timestampWrites: { querySet: timer.querySet, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 } });
  pass.setPipeline(pipeline);
  for (let d = 0; d < count; d++) {
    pass.setBindGroup(0, groups[d % groups.length]);
    pass.dispatchWorkgroups(workgroups);
  }
  pass.end();
}
