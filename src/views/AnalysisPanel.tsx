// Weight analyses of the open checkpoint ("A Closer Look into MoE"): E×E similarity heatmaps per layer,
// with the r² of router on expert similarity, layer navigation and CSV/PNG export.

import { useEffect, useRef, useState } from 'react';
import { analysisCsv, STATIC_ANALYSES, type StaticAnalysis } from '../analysis/staticAnalyses.ts';
import { runAnalysis } from '../app/actions.ts';
import { useAppStore } from '../store/useAppStore.ts';
import { cssColour } from './colour.ts';
import { download, downloadCanvas } from './download.ts';

const EXPLAIN: Record<StaticAnalysis, string> = {
  'expert-similarity':
    'Cosine similarity between experts’ flattened W_gate, W_up and W_down. Bright off-diagonal cells are experts whose weights resemble each other; the paper finds most experts dissimilar.',
  'neuron-similarity':
    'Each expert’s matrix averaged over its neurons to one vector, then compared. Averaging reveals shared structure that matrix-level similarity hides.',
  'router-similarity':
    'Cosine similarity between the router’s rows, beside the neuron-averaged expert similarity; r² of a linear fit says how much the router’s geometry mirrors the experts’.',
};

/** One E×E matrix as a canvas: cosine −1…1 mapped onto the colour scale. */
function MatrixCanvas({ name, rows, layer }: { name: string; rows: number[][]; layer: number }) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const canvas = ref.current;
    const g = canvas?.getContext('2d');
    if (!canvas || !g) return;
    const E = rows.length;
    const cell = Math.max(2, Math.floor(220 / E));
    canvas.width = canvas.height = E * cell;
    rows.forEach((row, i) =>
      row.forEach((v, j) => {
        g.fillStyle = cssColour((v + 1) / 2);
        g.fillRect(j * cell, i * cell, cell, cell);
      }),
    );
  }, [rows]);
  return (
    <figure className="matrix">
      <canvas ref={ref} data-testid="analysis-matrix" data-name={name} data-layer={layer} />
      <figcaption>
        {name}{' '}
        <button type="button" className="small" onClick={() => downloadCanvas(ref.current, `moescope-${name}-layer-${layer}.png`)}>
          PNG
        </button>
      </figcaption>
    </figure>
  );
}

export function AnalysisPanel() {
  const model = useAppStore((s) => s.model);
  const state = useAppStore((s) => s.analysis);
  const [choice, setChoice] = useState<StaticAnalysis>('router-similarity');
  const [layerIndex, setLayerIndex] = useState(0);
  if (model.kind !== 'opened') return null;
  const done = state.kind === 'done' ? state : null;
  const layer = done?.layers[Math.min(layerIndex, done.layers.length - 1)];
  return (
    <section className="panel" aria-labelledby="analysis-title" data-testid="analysis-panel">
      <h2 id="analysis-title">Weight analyses</h2>
      <div className="controls">
        <select value={choice} onChange={(e) => setChoice(e.target.value as StaticAnalysis)} aria-label="analysis">
          {STATIC_ANALYSES.map((a) => (
            <option key={a} value={a}>
              {a}
            </option>
          ))}
        </select>
        <button type="button" data-testid="analysis-run" disabled={state.kind === 'running'} onClick={() => void runAnalysis(choice)}>
          {state.kind === 'running' ? 'Computing…' : 'Compute'}
        </button>
        {done && (
          <>
            <label>
              layer{' '}
              <select value={layerIndex} onChange={(e) => setLayerIndex(Number(e.target.value))} data-testid="analysis-layer">
                {done.layers.map((l, i) => (
                  <option key={l.layer} value={i}>
                    {l.layer}
                  </option>
                ))}
              </select>
            </label>
            <button type="button" data-testid="analysis-csv" onClick={() => download(`moescope-${done.analysis}.csv`, new Blob([analysisCsv(done.layers)], { type: 'text/csv' }))}>
              Export CSV
            </button>
            <span className="note">{done.milliseconds.toFixed(0)} ms in the worker</span>
          </>
        )}
      </div>
      <p className="note">{EXPLAIN[done?.analysis ?? choice]} Colour: cosine from −1 (dark) to 1 (bright).</p>
      {state.kind === 'failed' && <p className="error-text">{state.message}</p>}
      {layer && (
        <>
          <div className="matrices">
            {Object.entries(layer.matrices).map(([name, rows]) => (
              <MatrixCanvas key={name} name={name} rows={rows} layer={layer.layer} />
            ))}
          </div>
          {layer.r2 && (
            <p data-testid="analysis-r2">
              r² of router similarity on neuron-averaged similarity, layer {layer.layer}: gate {layer.r2.gate.toFixed(3)} · up {layer.r2.up.toFixed(3)} · down{' '}
              {layer.r2.down.toFixed(3)}
            </p>
          )}
        </>
      )}
    </section>
  );
}
