// The text coloured by each token's top-1 expert at a chosen layer. Clicking a token selects it (the
// routing paths view isolates its path); the colour key lists the experts in view.

import { memo } from 'react';
import { appStore } from '../store/appStore.ts';
import type { LayerRows, TraceState } from '../store/traceSlice.ts';
import { useAppStore } from '../store/useAppStore.ts';
import { expertColour } from './download.ts';
import { LayerSelect } from './LayerSelect.tsx';
import { tokenChunks } from './tokenChunks.ts';

export function TokenStrip() {
  const trace = useAppStore((s) => s.trace);
  const version = useAppStore((s) => s.trace?.version);
  const stripLayer = useAppStore((s) => s.stripLayer);
  const selected = useAppStore((s) => s.selectedToken);
  if (!trace || trace.layers.length === 0) return null;
  void version;
  const layer = trace.layers.find((l) => l.layer === stripLayer) ?? trace.layers[0]!;
  const set = appStore.getState().set;
  return (
    <section className="panel" aria-labelledby="strip-title">
      <h2 id="strip-title">Token strip</h2>
      <div className="controls">
        <LayerSelect layers={trace.layers.map((l) => l.layer)} value={layer.layer} onChange={(stripLayer) => set({ stripLayer })} />
        <span className="note">colour = top-1 expert; click a token to follow its path</span>
      </div>
      <p className="token-strip" data-testid="token-strip" data-layer={layer.layer}>
        {tokenChunks(layer.experts.length).map(([start, end]) => (
          <StripChunk
            key={start}
            layer={layer}
            tokens={trace.tokens}
            numExperts={trace.model.numExperts}
            start={start}
            end={end}
            // only the chunk holding the selection (before or after a click) re-renders for it
            selected={selected !== null && selected >= start && selected < end ? selected : null}
          />
        ))}
      </p>
    </section>
  );
}

interface StripChunkProps {
  layer: LayerRows;
  tokens: TraceState['tokens'];
  numExperts: number;
  start: number;
  end: number;
  selected: number | null;
}

/** Rows [start, end) of the layer, one button per token. */
const StripChunk = memo(function StripChunk({ layer, tokens, numExperts, start, end, selected }: StripChunkProps) {
  const set = appStore.getState().set;
  return layer.experts.slice(start, end).map((experts, j) => {
    const i = start + j;
    const top = experts[0] ?? 0;
    return (
      <button
        type="button"
        key={i}
        className={`strip-tok${selected === i ? ' selected' : ''}`}
        style={{ background: expertColour(top, numExperts) }}
        title={`#${i} → expert ${top} (${(layer.weights[i]?.[0] ?? 0).toFixed(2)})`}
        onClick={() => set({ selectedToken: selected === i ? null : i })}
      >
        {tokens[i]?.text ?? ''}
      </button>
    );
  });
});
