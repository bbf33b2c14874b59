import { defineConfig } from 'vitest/config';

// Three harnesses, one runner: unit (pure TS), gpu (Dawn in Node; real GPU or SwiftShader) and browser
// (the built app in headless Chromium). The browser files run one at a time (each drives a Chromium whose
// GPU process keeps the cores busy); the GPU files two at a time, in two workers.
export default defineConfig({
  test: {
    reporters: ['default', ['json', { outputFile: 'test-results/vitest.json' }]],
    projects: [
      { test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      {
        test: {
          name: 'gpu',
          include: ['test/gpu/**/*.test.ts'],
          // Two workers, not isolated: the files a worker runs share its device (test/helpers/gpu.ts) and
          // compiled pipelines. On SwiftShader a tiled prefill kernel takes seconds to compile, and a file
          // per device compiled the same ones again (a quarter of the suite's time). Compiling is
          // single-threaded, so a second worker uses the other core (GPU files 604 → 495 s on 2 cores).
          maxWorkers: 2,
          isolate: false,
          // a group of its own: projects run together only with the same maxWorkers (the unit files take the default)
          sequence: { groupOrder: 1 },
          // the longest test took 80 s beside another file on this 2-core machine: room for a slower one
          testTimeout: 300_000,
          hookTimeout: 300_000,
        },
      },
      {
        test: {
          name: 'browser',
          include: ['test/browser/**/*.test.ts'],
          globalSetup: ['test/browser/serveApp.ts'],
          fileParallelism: false,
          testTimeout: 180_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
