// The tokens as they stream in: prompt and generated ones told apart, with decode speed.

import { useAppStore } from '../store/useAppStore.ts';

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
        {trace.tokens.map((t, i) => (
          <span key={i} className={i < trace.promptLength ? 'tok prompt-tok' : 'tok'} title={`#${i} id ${t.id}`}>
            {t.text}
          </span>
        ))}
      </p>
    </section>
  );
}
