// Every analysis of the catalog on the open checkpoint: pick one, give it a text (or two) where it runs the
// model, compute in the worker with progress, then browse its plots layer by layer and export CSV/PNG.

import { useState } from 'react';
import { ANALYSES, ANALYSIS_NAMES, type AnalysisName } from '../analysis/catalog.ts';
import { analysisCsv, type LayerResult } from '../analysis/result.ts';
import { runAnalysis } from '../app/actions.ts';
import { useAppStore } from '../store/useAppStore.ts';
import { parseIndexList } from '../util/indexList.ts';
import { extent, MatrixCanvas, ScatterCanvas } from './analysisPlots.tsx';
import { LayerSelect } from './LayerSelect.tsx';
import { download } from './download.ts';

const SOURCES = [
  ['weights', 'From the weights'],
  ['forward', 'Running every expert on a text'],
  ['routing', 'From the routing of a text'],
] as const;

const RANGES: Record<string, [number, number] | null> = { cosine: [-1, 1], unit: [0, 1], auto: null };

const batch = (text: string) => text.split(/\n---\n/).map((t) => t.trim()).filter(Boolean);

function LayerView({ layer, analysis, experts }: { layer: LayerResult; analysis: AnalysisName; experts: number }) {
  const [token, setToken] = useState(0);
  const fixed = RANGES[ANALYSES[analysis].scale] ?? null;
  let matrices = Object.entries(layer.matrices);
  // matrices of one kind ("share A", "share B") on one colour scale, so that they compare side by side
  const kind = (name: string) => name.split(' ')[0];
  const rangeOf = (name: string): [number, number] | null => {
    if (fixed || analysis === 'intermediate-states') return fixed;
    return extent(matrices.filter(([n]) => kind(n) === kind(name)).flatMap(([, rows]) => rows.flat()));
  };
  if (analysis === 'intermediate-states') {
    const t = Math.min(token, matrices.length - 1);
    matrices = matrices.slice(t, t + 1);
  }
  return (
    <>
      {analysis === 'intermediate-states' && (
        <label>
          token{' '}
          <select value={token} onChange={(e) => setToken(Number(e.target.value))} data-testid="analysis-token">
            {Object.keys(layer.matrices).map((name, i) => (
              <option key={name} value={i}>
                {name}
              </option>
            ))}
          </select>
        </label>
      )}
      <div className="matrices">
        {matrices.map(([name, rows]) => (
          <MatrixCanvas key={name} name={name} rows={rows} layer={layer.layer} range={rangeOf(name)} />
        ))}
        {Object.entries(layer.points ?? {}).map(([name, data]) => (
          <ScatterCanvas key={name} name={name} data={data} layer={layer.layer} experts={experts} />
        ))}
      </div>
      {layer.stats && (
        <p data-testid="analysis-stats">
          {Object.entries(layer.stats).map(([k, v]) => (
            <span key={k} className="stat">
              {k}: <b>{v.toFixed(3)}</b>{' '}
            </span>
          ))}
        </p>
      )}
      {Object.entries(layer.tables ?? {}).map(([name, t]) => (
        <table key={name} className="analysis-table" data-testid="analysis-table" data-name={name}>
          <caption>{name} (most frequent 15)</caption>
          <thead>
            <tr>{t.columns.map((c) => <th key={c}>{c}</th>)}</tr>
          </thead>
          <tbody>
            {t.rows.slice(0, 15).map((row, i) => (
              <tr key={i}>{row.map((v, j) => <td key={j}>{typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(2) : JSON.stringify(v).replace(/^"|"$/g, '')}</td>)}</tr>
            ))}
          </tbody>
        </table>
      ))}
    </>
  );
}

export function AnalysisPanel() {
  const model = useAppStore((s) => s.model);
  const state = useAppStore((s) => s.analysis);
  // the last run's prompt as typed: joining its tokens' texts would spell out special tokens ("<s>")
  const promptText = useAppStore((s) => s.trace?.promptText ?? '');
  const [choice, setChoice] = useState<AnalysisName>('router-similarity');
  const [text, setText] = useState('');
  const [compare, setCompare] = useState('');
  const [oneLayer, setOneLayer] = useState<number | null>(null);
  const [experts, setExperts] = useState('');
  const [layerIndex, setLayerIndex] = useState(0);
  if (model.kind !== 'opened') return null;
  const { card } = model.opened;
  const info = ANALYSES[choice];
  const moeLayers = card.moeLayers;
  const done = state.kind === 'done' ? state.result : null;
  const layer = done?.layers[Math.min(layerIndex, done.layers.length - 1)];
  const textValue = text || promptText;
  const expertList = experts.trim() ? parseIndexList(experts) : null;
  const problem =
    info.texts > 0 && !textValue.trim() ? 'type a text to run the model on'
    : info.texts === 2 && !compare.trim() ? 'type a second text to compare with'
    : experts.trim() && !expertList ? 'experts: a list like 0-7, 12'
    : null;
  const compute = () => {
    setLayerIndex(0);
    void runAnalysis({
      analysis: choice,
      ...(info.oneLayer ? { layers: [oneLayer ?? moeLayers[0]!] } : {}),
      ...(choice === 'reordered-similarity' && expertList ? { experts: expertList } : {}),
      ...(info.texts > 0 ? { texts: batch(textValue) } : {}),
      ...(info.texts === 2 ? { compare: batch(compare) } : {}),
    });
  };
  return (
    <section className="panel" aria-labelledby="analysis-title" data-testid="analysis-panel">
      <h2 id="analysis-title">Analyses</h2>
      <div className="controls">
        <select value={choice} onChange={(e) => setChoice(e.target.value as AnalysisName)} aria-label="analysis" data-testid="analysis-choice">
          {SOURCES.map(([source, label]) => (
            <optgroup key={source} label={label}>
              {ANALYSIS_NAMES.filter((a) => ANALYSES[a].source === source).map((a) => (
                <option key={a} value={a}>
                  {ANALYSES[a].title}
                </option>
              ))}
            </optgroup>
          ))}
        </select>
        {info.oneLayer && <LayerSelect layers={moeLayers} value={oneLayer ?? moeLayers[0]!} onChange={setOneLayer} testId="analysis-layer-choice" />}
        {choice === 'reordered-similarity' && (
          <label>
            experts{' '}
            <input value={experts} onChange={(e) => setExperts(e.target.value)} placeholder={card.numExperts > 16 ? '0-7 (all is slow)' : 'all'} size={10} data-testid="analysis-experts" />
          </label>
        )}
        <button type="button" data-testid="analysis-run" disabled={state.kind === 'running' || problem !== null} onClick={compute}>
          {state.kind === 'running' ? `Computing… ${state.done}/${state.total}` : 'Compute'}
        </button>
        {done && (
          <>
            <label>
              showing layer{' '}
              <select value={layerIndex} onChange={(e) => setLayerIndex(Number(e.target.value))} data-testid="analysis-layer">
                {done.layers.map((l, i) => (
                  <option key={l.layer} value={i}>
                    {l.layer < 0 ? 'all layers' : l.layer}
                  </option>
                ))}
              </select>
            </label>
            <button type="button" data-testid="analysis-csv" onClick={() => download(`moescope-${done.analysis}.csv`, new Blob([analysisCsv(done.layers)], { type: 'text/csv' }))}>
              Export CSV
            </button>
            <span className="note" data-testid="analysis-time">
              {ANALYSES[done.analysis].title}: {(done.milliseconds / 1000).toFixed(2)} s in the worker{done.notes.length ? ` · ${done.notes.join(' · ')}` : ''}
            </span>
          </>
        )}
      </div>
      {info.texts > 0 && (
        <div className="analysis-texts">
          <textarea value={textValue} onChange={(e) => setText(e.target.value)} rows={3} aria-label="text to analyse" data-testid="analysis-text" placeholder="text to run (separate the texts of a batch by a line ---)" />
          {info.texts === 2 && <textarea value={compare} onChange={(e) => setCompare(e.target.value)} rows={3} aria-label="text to compare with" data-testid="analysis-compare" placeholder="second text (e.g. code if the first is prose)" />}
        </div>
      )}
      <p className="note" data-testid="analysis-explain">
        {info.explain} {problem && <b>({problem})</b>}
      </p>
      {state.kind === 'failed' && <p className="error-text" data-testid="analysis-error">{state.message}</p>}
      {done && layer && <LayerView key={`${done.analysis}:${layer.layer}`} layer={layer} analysis={done.analysis} experts={card.numExperts} />}
    </section>
  );
}
