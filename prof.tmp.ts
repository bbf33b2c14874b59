import { createNodeGpu } from './src/node/gpu.ts';
import { checkpointSources } from './src/node/checkpointPaths.ts';
import { openModel } from './src/model/openModel.ts';
import { uploadModel } from './src/engine/gpuModel.ts';
import { ForwardPass } from './src/engine/forward.ts';
import { uploadStorage } from './src/gpu/buffers.ts';
import { argmax } from './src/kernels/layers.ts';

const ctx = await createNodeGpu();
const opened = await openModel(await checkpointSources(['public/models/moescope-demo-16x']));
const model = await uploadModel(ctx, opened, {});
const fwd = new ForwardPass(ctx, opened.spec, model, 64);
const ids = uploadStorage(ctx.device, Uint32Array.from([5]));
for (let i = 0; i < 8; i++) {
  const t0 = performance.now();
  const rec = fwd.recorder(1, false, null, i % 2);
  const step = await fwd.encode(rec, ids, 1, i, false);
  const next = rec.storage(4, 'next');
  await argmax(ctx, rec, { logits: step.logits, ids: next, numRows: 1, width: opened.spec.vocabSize, rowOffset: 0 });
  const cb = rec.finish();
  const t1 = performance.now();
  ctx.device.queue.submit([cb]);
  const t2 = performance.now();
  await ctx.device.queue.onSubmittedWorkDone();
  console.log(`record ${(t1 - t0).toFixed(2)} ms, submit ${(t2 - t1).toFixed(2)} ms`);
}
process.exit(0);
