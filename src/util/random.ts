// Seeded randomness: sampling draws and test data. The same seed gives the same numbers everywhere.

/** mulberry32: a small, well-known 32-bit generator; returns floats in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomInt(rand: () => number, lo: number, hi: number): number {
  return lo + Math.floor(rand() * (hi - lo + 1));
}

/** Values spread like router logits: normal-ish, scaled. */
export function randomLogits(rand: () => number, count: number, scale = 3): Float32Array {
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = (rand() + rand() + rand() - 1.5) * 2 * scale;
  return out;
}
