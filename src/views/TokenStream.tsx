// The tokens as they stream in: prompt and generated ones told apart, with decode speed.

import { memo } from 'react';
import type { TraceState } from '../store/traceSlice.ts';
import { useAppStore } from '../store/useAppStore.ts';
import { tokenChunks } from './tokenChunks.ts';

export function TokenStream() {
  const trace = useAppStore((s) => s.trace);
  const run = useAppStore((s) => s.run);
  if (!trace) return null;
  const speed =
    run.kind === 'running' ? `${run.tokensPerSecond.toFixed(1)} tok/s…` : run.kind === 'done' ? `${run.tokensPerSecond.toFixed(1)} tok/s · stopped by ${run.stoppedBy}` : '';
  return (
    <section className="panel" aria-labelledby="stream-title">
      <h2 id="stream-title">
        Tokens <span className="note" data-testid="run-speed">{typeof trace.source === 'object' ? `from ${trace.source.file}` : speed}</span>
      </h2>
      <p className="token-stream" data-testid="token-stream" data-count={trace.tokens.length}>
        {tokenChunks(trace.tokens.length).map(([start, end]) => (
          <StreamChunk key={start} tokens={trace.tokens} start={start} end={end} promptLength={trace.promptLength} />
        ))}
      </p>
    </section>
  );
}

/** Tokens [start, end): re-rendered only when its range, the run or the prompt length changes. */
const StreamChunk = memo(function StreamChunk({ tokens, start, end, promptLength }: { tokens: TraceState['tokens']; start: number; end: number; promptLength: number }) {
  return tokens.slice(start, end).map((t, j) => {
    const i = start + j;
    return (
      <span key={i} className={i < promptLength ? 'tok prompt-tok' : 'tok'} title={`#${i} id ${t.id}`}>
        {t.text}
      </span>
    );
  });
});
