// The token strip and the token stream draw thousands of tokens and grow by a few per update of a run.
// They render in fixed chunks of tokens, each a memoised component whose props are plain numbers and the
// trace's arrays (appended in place), so an update re-renders only the chunk that grew, not every token.

export const TOKENS_PER_CHUNK = 256;

/** [start, end) of each chunk of `count` tokens. */
export function tokenChunks(count: number): [number, number][] {
  const out: [number, number][] = [];
  for (let start = 0; start < count; start += TOKENS_PER_CHUNK) out.push([start, Math.min(count, start + TOKENS_PER_CHUNK)]);
  return out;
}
