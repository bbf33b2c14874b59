// The lists users type for layers, experts and token ids.
import { describe, expect, it } from 'vitest';
import { parseIndexList, parseTokenIds } from '../../src/util/indexList.ts';

describe('typed lists', () => {
  it('index lists: single numbers and ranges, a trailing comma ignored', () => {
    expect(parseIndexList('0-3, 7')).toEqual([0, 1, 2, 3, 7]);
    expect(parseIndexList('5,')).toEqual([5]);
    expect(parseIndexList(' 2 - 4 ')).toEqual([2, 3, 4]);
  });
  it('index lists reject what is not n or n-m', () => {
    for (const bad of ['-1', '1.5', 'a', '1-', '1-2-3', '0x2']) expect(parseIndexList(bad), bad).toBeNull();
  });
  it('token ids: non-negative integers, at least one', () => {
    expect(parseTokenIds('5, 9, 1')).toEqual([5, 9, 1]);
    for (const bad of ['', ' , ', '-1', '1.0', '2-4', 'x']) expect(parseTokenIds(bad), bad).toBeNull();
  });
});
