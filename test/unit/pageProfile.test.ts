// A page's CPU profile summed per function, against a hand-made profile whose times are worked out below.
import { describe, expect, it } from 'vitest';
import { timeByFunction, type CpuProfile } from '../../src/node/pageProfile.ts';

const frame = (functionName: string, lineNumber = 0, url = 'http://127.0.0.1:1/assets/app.js?v=1') => ({ functionName, url, lineNumber, columnNumber: 0 });

describe('page CPU profile by function', () => {
  it('self and total time per function; recursion counted once; the root left out', () => {
    // (root) → flush → draw → draw (recursion) ; (root) → (program)
    const profile: CpuProfile = {
      nodes: [
        { id: 1, callFrame: frame('(root)', -1, ''), children: [2, 5] },
        { id: 2, callFrame: frame('flush', 9), children: [3] },
        { id: 3, callFrame: frame('draw', 41), children: [4] },
        { id: 4, callFrame: frame('draw', 41) },
        { id: 5, callFrame: frame('(program)', -1, '') },
      ],
      // samples ending in: draw (inner) 3 ms, draw (outer) 1 ms, flush 2 ms, (program) 4 ms
      samples: [4, 4, 3, 2, 5, 5, 2, 4],
      timeDeltas: [1000, 1000, 1000, 1000, 2000, 2000, 1000, 1000],
    };
    expect(timeByFunction(profile)).toEqual([
      { name: 'flush', where: 'app.js:10', selfMs: 2, totalMs: 6 },
      { name: '(program)', where: '', selfMs: 4, totalMs: 4 },
      { name: 'draw', where: 'app.js:42', selfMs: 4, totalMs: 4 },
    ]);
  });
});
