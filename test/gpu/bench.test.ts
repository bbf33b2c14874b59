// The benchmark harness at its tiny shape: it must run end to end and print its table and JSON.
// Smoke only: timings are not asserted (docs/performance.md holds real-GPU figures).
import { describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { testGpu } from '../helpers/gpu.ts';

describe('npm run bench (smoke, tiny shape)', () => {
  it('prints the table and a JSON report', async () => {
    const lines: string[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((...a) => void lines.push(a.join(' ')));
    const err = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      expect(await main(['bench', '--shape', 'tiny', '--prompt-tokens', '48', '--new-tokens', '8'], { gpu: await testGpu() })).toBe(0);
    } finally {
      log.mockRestore();
      err.mockRestore();
    }
    const out = lines.join('\n');
    console.info(out);
    for (const row of ['shape', 'adapter', 'load', 'prefill', 'decode', 'decode weights read', 'copy bandwidth', 'GPU memory (weights)']) {
      expect(out).toMatch(new RegExp(`^\\| ${row.replace(/[()]/g, "\\$&")} \\| .+ \\|$`, "m"));
    }
    const report = JSON.parse(lines.at(-1)!);
    expect(report).toMatchObject({ shape: 'tiny', prefillTokens: 48, decodeTokens: 7 });
    expect(report.decodeTokS).toBeGreaterThan(0);
    expect(report.copyGBs).toBeGreaterThan(0);
    // two steps in flight: steps 1–3 teach the slots' shared slopes (SlopeLearner), 4–7 replay
    expect(report.decodeReplayedSteps).toBe(4);
    if (report.decodeGpuUs !== null) expect(report.decodeGpuReplayedGapUs).toBeGreaterThanOrEqual(0);
  });
});
