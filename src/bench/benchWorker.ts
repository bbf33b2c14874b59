// The bench page's Web Worker: the same measurement as `moescope bench` in Node, on the browser's WebGPU
// and on Files, in a worker as the app runs the engine (src/worker/engineWorker.ts).

import { createBrowserGpu } from '../browser/gpu.ts';
import { blobSource } from '../checkpoint/byteSource.ts';
import { openModel } from '../model/openModel.ts';
import { measureBench } from './measure.ts';
import type { BenchReply, BenchRequest } from './benchProtocol.ts';

function post(reply: BenchReply): void {
  (self as unknown as Worker).postMessage(reply);
}

self.onmessage = async (event: MessageEvent<BenchRequest>) => {
  const { files, label, options } = event.data;
  try {
    const gpu = await createBrowserGpu();
    const opened = await openModel(files.map((f) => blobSource(f, f.name)));
    const browser = /(?:Headless)?Chrome\/[\d.]+/.exec(navigator.userAgent)?.[0] ?? navigator.userAgent;
    const report = await measureBench(gpu, opened, label, `${browser}, Web Worker`, options);
    gpu.device.destroy();
    post({ kind: 'report', report });
  } catch (error) {
    post({ kind: 'error', message: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
  }
};
