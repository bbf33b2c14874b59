// Tolerance checks that say where two arrays differ, not just that they do.

export function maxAbsDiff(actual: ArrayLike<number>, expected: ArrayLike<number>): { max: number; at: number } {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length} ≠ expected ${expected.length}`);
  let max = 0;
  let at = -1;
  for (let i = 0; i < actual.length; i++) {
    const d = Math.abs((actual[i] ?? NaN) - (expected[i] ?? NaN));
    if (!(d <= max)) {
      max = d;
      at = i;
    }
  }
  return { max, at };
}
