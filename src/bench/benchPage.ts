// The bench page (bench.html): hands the chosen files to a Web Worker that times them, shows the table and
// leaves the reply on window[RESULT_GLOBAL] for a driver to read.

import { BROWSER_STEPS_IN_FLIGHT } from '../engine/engine.ts';
import { BENCH_DEFAULTS, benchTable, type BenchOptions } from './measure.ts';
import { RESULT_GLOBAL, type BenchReply, type BenchRequest } from './benchProtocol.ts';

// as `moescope bench --browser` and the app run it
const DEFAULTS: BenchOptions = { ...BENCH_DEFAULTS, stepsInFlight: BROWSER_STEPS_IN_FLIGHT };

const params = new URLSearchParams(location.search);
const options: BenchOptions = { ...DEFAULTS, ...(JSON.parse(params.get('options') ?? '{}') as Partial<BenchOptions>) };
const input = document.querySelector<HTMLInputElement>('input[type=file]')!;
const out = document.getElementById('report')!;

/** Show the worker's reply and leave it for the driver. */
function finish(reply: BenchReply): void {
  out.textContent = reply.kind === 'report' ? benchTable(reply.report) : reply.message;
  (window as unknown as Record<string, BenchReply>)[RESULT_GLOBAL] = reply;
}

input.addEventListener('change', () => {
  const files = [...(input.files ?? [])];
  if (files.length === 0) return;
  out.textContent = `timing ${files.length} files…`;
  const worker = new Worker(new URL('./benchWorker.ts', import.meta.url), { type: 'module' });
  worker.onmessage = (event: MessageEvent<BenchReply>) => {
    finish(event.data);
    worker.terminate();
  };
  worker.onerror = (event) => finish({ kind: 'error', message: `the bench worker failed: ${event.message}` });
  const request: BenchRequest = { files, label: params.get('label') ?? 'checkpoint', options };
  worker.postMessage(request);
});
