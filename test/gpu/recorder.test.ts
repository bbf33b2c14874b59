// The step Recorder against a plain-TS simulation of the same commands: dispatches recorded in full, a
// step replayed from the Program learned from three recordings, Params in one shared uniform buffer that
// grows while the first step is recorded, a step submitted in parts (submitSoFar), and ranges read back
// behind each part (readBackNow).
import { describe, expect, it } from 'vitest';
import { readBuffer, uploadStorage } from '../../src/gpu/buffers.ts';
import { kernelName, Recorder, RecordingCache } from '../../src/gpu/recorder.ts';
import { SlopeLearner } from '../../src/gpu/replayProgram.ts';
import { StepTimer } from '../../src/gpu/timers.ts';
import { elementwise } from '../../src/kernels/layers.ts';
import { testGpu } from '../helpers/gpu.ts';

const DISPATCHES = 150; // more slots than the params buffer starts with (64), so it grows twice
const ELEMENTS = 400;

/** A step at position pos: dispatch d multiplies element pos + d by (2 + d % 3); one submit per 40 dispatches when asked. */
async function recordStep(rec: Recorder, a: GPUBuffer, pos: number, parts: boolean): Promise<void> {
  const gpu = rec.ctx;
  for (let d = 0; d < DISPATCHES; d++) {
    await elementwise(gpu, rec, { op: 'scale', a, count: 1, scale: 2 + (d % 3), offset: pos + d });
    if (parts && d % 40 === 39) rec.submitSoFar();
  }
}

function simulateStep(values: Float64Array, pos: number): void {
  for (let d = 0; d < DISPATCHES; d++) values[pos + d]! *= 2 + (d % 3);
}

describe('step recorder', () => {
  it('records, learns and replays steps whose Params move with the position; submits in parts', async () => {
    const gpu = await testGpu();
    const a = uploadStorage(gpu.device, new Float32Array(ELEMENTS).fill(1), 'values');
    const want = new Float64Array(ELEMENTS).fill(1);
    const cache = new RecordingCache();
    let replayed = 0;
    try {
      await gpu.checked('recorder test', async () => {
        for (const [pos, parts] of [[0, true], [3, false], [5, false], [9, false], [20, false], [21, true]] as const) {
          const rec = new Recorder(gpu, cache);
          const memo = rec.replay(pos, 'step');
          if (memo) {
            expect(memo).toBe('kept');
            replayed++;
          } else {
            await recordStep(rec, a, pos, parts);
            rec.keepForReplay(pos, 'step', 'kept');
          }
          gpu.device.queue.submit([rec.finish()]);
          simulateStep(want, pos);
        }
      });
      const got = new Float32Array(await readBuffer(gpu.device, a, ELEMENTS * 4));
      // the step at 0 grew the params buffer as it went (its early bind groups bind the old one), so the
      // Program comes from the recordings at 3, 5 and 9, and the steps at 20 and 21 replay
      expect(replayed).toBe(2);
      expect(Array.from(got)).toEqual(Array.from(want));
    } finally {
      cache.destroy();
      a.destroy();
    }
  });

  it('leaves out the dispatches of the kernels skip() names, recorded or replayed, and keeps the step\'s passes', async () => {
    const gpu = await testGpu();
    const a = uploadStorage(gpu.device, new Float32Array(ELEMENTS).fill(1), 'values');
    const sink = uploadStorage(gpu.device, new Float32Array(4), 'copy destination');
    const want = new Float64Array(ELEMENTS).fill(1);
    const cache = new RecordingCache();
    const timer = new StepTimer(gpu.device);
    const WIDE = 70; // elementwise's 64-element workgroups: a grid of 2, where one element takes 1
    // a step at pos: element pos × 2 (grid 1), elements pos … pos + 69 × 3 (grid 2), a copy (so a second
    // pass), element pos + 1 × 5 (grid 1)
    const step = async (rec: Recorder, pos: number) => {
      await elementwise(gpu, rec, { op: 'scale', a, count: 1, scale: 2, offset: pos });
      await elementwise(gpu, rec, { op: 'scale', a, count: WIDE, scale: 3, offset: pos });
      rec.copyBufferToBuffer(a, 0, sink, 0, 4);
      await elementwise(gpu, rec, { op: 'scale', a, count: 1, scale: 5, offset: pos + 1 });
    };
    const simulate = (pos: number, skipWide: boolean) => {
      want[pos]! *= 2;
      if (!skipWide) for (let i = pos; i < pos + WIDE; i++) want[i]! *= 3;
      want[pos + 1]! *= 5;
    };
    const passes: number[] = [];
    let replayed = 0;
    try {
      await gpu.checked('skip test', async () => {
        // positions 0, 2, 4 recorded (the Program learned), 6 and 8 replayed; the wide kernel left out
        // at 2 (recorded) and 8 (replayed), run at 6 (replayed)
        for (const [pos, skipWide] of [[0, false], [2, true], [4, false], [6, false], [8, true]] as const) {
          const rec = new Recorder(gpu, cache, null, 'step', timer);
          rec.skip = skipWide ? (kernel) => kernel === kernelName('elementwise', [2, 1, 1]) : null;
          if (rec.replay(pos, 'step')) {
            replayed++;
          } else {
            await step(rec, pos);
            passes.push(rec.resolveTimer()!.passes);
            rec.keepForReplay(pos, 'step', 'kept');
          }
          gpu.device.queue.submit([rec.finish()]);
          simulate(pos, skipWide);
        }
      });
      expect(replayed).toBe(2);
      expect(passes).toEqual([2, 2, 2]);
      const got = new Float32Array(await readBuffer(gpu.device, a, ELEMENTS * 4));
      expect(Array.from(got)).toEqual(Array.from(want));
    } finally {
      timer.destroy();
      cache.destroy();
      a.destroy();
      sink.destroy();
    }
  });

  it('replays a step only under the StepTimer it was learned with (a timer destroyed after a run is never resolved into)', async () => {
    const gpu = await testGpu();
    const a = uploadStorage(gpu.device, new Float32Array(ELEMENTS).fill(1), 'values');
    const cache = new RecordingCache();
    const first = new StepTimer(gpu.device);
    const second = new StepTimer(gpu.device);
    const replays: boolean[] = [];
    try {
      await gpu.checked('timer replay test', async () => {
        for (const [pos, timer] of [[0, first], [1, first], [2, first], [3, first], [4, second], [5, second], [6, second], [7, second], [8, null]] as const) {
          if (timer === second) first.destroy(); // a run's timer, gone with its run (the in-place profile)
          const rec = new Recorder(gpu, cache, null, 'step', timer);
          const replayed = rec.replay(pos, 'step') !== null;
          replays.push(replayed);
          if (!replayed) {
            await elementwise(gpu, rec, { op: 'scale', a, count: 1, scale: 2, offset: pos });
            rec.resolveTimer();
            rec.keepForReplay(pos, 'step', 'kept');
          }
          gpu.device.queue.submit([rec.finish()]);
        }
      });
      // three recordings per timer before a replay; none for the untimed step
      expect(replays).toEqual([false, false, false, true, false, false, false, true, false]);
    } finally {
      second.destroy();
      cache.destroy();
      a.destroy();
    }
  });

  it('caches of sibling slots learn the slopes together: each replays after one recording of its own, and only where it agrees', async () => {
    const gpu = await testGpu();
    const SLOTS = 3;
    // each slot's steps work on a buffer of its own (as the engine's slots on their own scratch); a fourth
    // cache records steps whose words the shared slopes do not predict (another scale)
    const values = Array.from({ length: SLOTS + 1 }, (_, i) => uploadStorage(gpu.device, new Float32Array(ELEMENTS).fill(1), `values ${i}`));
    const want = values.map(() => new Float64Array(ELEMENTS).fill(1));
    const caches = values.map(() => new RecordingCache());
    const learner = new SlopeLearner();
    const replays: boolean[] = [];
    const STEPS = 8;
    try {
      await gpu.checked('sibling slots test', async () => {
        for (let pos = 0; pos < 12; pos++) {
          const slot = pos < 9 ? pos % SLOTS : SLOTS;
          const scale = slot === SLOTS ? 5 : 2;
          const rec = new Recorder(gpu, caches[slot]!, null, 'step', null, learner);
          const replayed = rec.replay(pos, 'step') !== null;
          replays.push(replayed);
          if (!replayed) {
            for (let d = 0; d < STEPS; d++) await elementwise(gpu, rec, { op: 'scale', a: values[slot]!, count: 1, scale: scale + d, offset: pos + d });
            rec.keepForReplay(pos, 'step', 'kept', 'step');
          }
          gpu.device.queue.submit([rec.finish()]);
          for (let d = 0; d < STEPS; d++) want[slot]![pos + d]! *= scale + d;
        }
      });
      // recordings at 0, 1, 2 (one per slot) teach the slopes; every slot then replays. The fourth cache's
      // words are not where the slopes put them: it records until three of its own agree (9, 10, 11)
      expect(replays).toEqual([false, false, false, true, true, true, true, true, true, false, false, false]);
      for (const [i, buffer] of values.entries()) {
        expect(Array.from(new Float32Array(await readBuffer(gpu.device, buffer, ELEMENTS * 4)))).toEqual(Array.from(want[i]!));
      }
    } finally {
      for (const c of caches) c.destroy();
      for (const b of values) b.destroy();
    }
  });

  it('StepTimer: the span of a step, its time in passes, and the idle GPU time since the previous step of its kind', async () => {
    const gpu = await testGpu();
    const timer = new StepTimer(gpu.device);
    try {
      // nanoseconds: step 1 has two passes (1000–1400, 1500–2000), step 2 one (2300–2700), a prefill one;
      // steps 3 and 4 replayed (idle before them: 1,300 and 200 ns), step 5 not (500 ns)
      timer.record('decode', new BigUint64Array([1000n, 1400n, 1500n, 2000n]).buffer, 2);
      timer.record('prefill', new BigUint64Array([5000n, 9000n]).buffer, 1);
      timer.record('decode', new BigUint64Array([2300n, 2700n]).buffer, 1);
      timer.record('decode', new BigUint64Array([4000n, 4100n]).buffer, 1, true);
      timer.record('decode', new BigUint64Array([4300n, 4400n]).buffer, 1, true);
      timer.record('decode', new BigUint64Array([4900n, 5000n]).buffer, 1, false);
      expect(timer.steps.get('decode')).toEqual({ spanUs: [1, 0.4, 0.1, 0.1, 0.1], busyUs: [0.9, 0.4, 0.1, 0.1, 0.1], gapUs: [0.3, 1.3, 0.2, 0.5], replayedGapUs: [1.3, 0.2] });
      expect(timer.steps.get('prefill')).toEqual({ spanUs: [4], busyUs: [4], gapUs: [], replayedGapUs: [] });
    } finally {
      timer.destroy();
    }
  });

  it('reads a range right behind what was submitted so far (readBackNow): the values of that part, none of later parts', async () => {
    const gpu = await testGpu();
    const a = uploadStorage(gpu.device, new Float32Array(ELEMENTS).fill(1), 'values');
    const want = new Float64Array(ELEMENTS).fill(1);
    const cache = new RecordingCache();
    const reads: Promise<ArrayBuffer[]>[] = [];
    const snapshots: number[][] = [];
    try {
      await gpu.checked('readBackNow test', async () => {
        const rec = new Recorder(gpu, cache);
        for (let d = 0; d < DISPATCHES; d++) {
          await elementwise(gpu, rec, { op: 'scale', a, count: 1, scale: 2 + (d % 3), offset: d });
          want[d]! *= 2 + (d % 3);
          if (d % 40 === 39) {
            expect(rec.submitSoFar()).toBe(true);
            // elements d − 7 … d + 8: the last ones of this part, the first ones of the next
            reads.push(rec.readBackNow([{ buffer: a, offset: (d - 7) * 4, bytes: 16 * 4 }], reads.length).read());
            snapshots.push(Array.from(want.subarray(d - 7, d + 9)));
          }
        }
        gpu.device.queue.submit([rec.finish()]);
      });
      expect(reads.length).toBe(3);
      for (const [i, read] of reads.entries()) {
        const [bytes] = await read;
        expect(Array.from(new Float32Array(bytes!)), `read after part ${i}`).toEqual(snapshots[i]);
      }
      // slot 0 again, now larger: the whole array after the step
      const rec = new Recorder(gpu, cache);
      const [all] = await rec.readBackNow([{ buffer: a, bytes: ELEMENTS * 4 }], 0).read();
      expect(Array.from(new Float32Array(all!))).toEqual(Array.from(want));
    } finally {
      cache.destroy();
      a.destroy();
    }
  });

  it('shared scratch: one buffer per purpose and size for the whole step and its re-recordings, destroyed with the cache', async () => {
    const gpu = await testGpu();
    const cache = new RecordingCache();
    const first = new Recorder(gpu, cache);
    const a = first.shared('partials', 1000);
    expect(first.shared('partials', 1000)).toBe(a); // a second layer of the same step
    const b = first.shared('partials', 4000);
    const c = first.shared('other', 1000);
    expect(new Set([a, b, c]).size).toBe(3);
    expect(a.size).toBeGreaterThanOrEqual(1000);
    expect(b.size).toBeGreaterThanOrEqual(4000);
    expect(new Recorder(gpu, cache).shared('partials', 1000)).toBe(a); // the step recorded again
    expect(new Recorder(gpu, new RecordingCache()).shared('partials', 1000)).not.toBe(a); // another step shape
    cache.destroy();
    expect(cache.shared.size).toBe(0);
  });
});
