import { defineConfig } from 'vitest/config';

// Three harnesses, one runner: unit (pure TS), gpu (Dawn in Node; real GPU or SwiftShader) and browser
// (the built app in headless Chromium). GPU-backed suites run one file at a time: on SwiftShader every
// file already keeps the machine's cores busy.
export default defineConfig({
  test: {
    reporters: ['default', ['json', { outputFile: 'test-results/vitest.json' }]],
    projects: [
      { test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      {
        test: {
          name: 'gpu',
          include: ['test/gpu/**/*.test.ts'],
          fileParallelism: false,
          // One process for every GPU file, so they share one device (test/helpers/gpu.ts) and its compiled
          // pipelines: on SwiftShader a tiled prefill kernel takes seconds to compile, and each file compiled
          // the same ones again (a quarter of the suite's time).
          isolate: false,
          // a one-worker, non-isolated project needs a group of its own (the unit files run several at once)
          sequence: { groupOrder: 1 },
          testTimeout: 120_000,
          hookTimeout: 120_000,
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
