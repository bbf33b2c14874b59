// Expert load per MoE layer: the share of assignments each expert gets, coefficient of variation,
// auxiliary load-balancing loss and router entropy (÷ log E). Updates as tokens arrive.

import { useEffect, useRef } from 'react';
import { LoadAccumulator, type LoadStats } from '../analysis/routingStats.ts';
import type { LayerRows } from '../store/traceSlice.ts';
import { useAppStore } from '../store/useAppStore.ts';
import { expertColour } from './download.ts';

/** Each layer's sums so far: an update of a run adds only its new rows (rows are appended in place). */
const accumulators = new WeakMap<LayerRows, LoadAccumulator>();

function layerLoad(rows: LayerRows, numExperts: number): LoadStats {
  let acc = accumulators.get(rows);
  if (!acc || acc.numExperts !== numExperts || acc.rows > rows.experts.length) accumulators.set(rows, (acc = new LoadAccumulator(numExperts)));
  acc.addRows(rows.experts, rows.routerLogits);
  return acc.stats();
}

function Bars({ stats }: { stats: LoadStats }) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const canvas = ref.current;
    const g = canvas?.getContext('2d');
    if (!canvas || !g) return;
    const E = stats.shares.length;
    canvas.width = Math.max(E * 6, 120);
    canvas.height = 40;
    g.clearRect(0, 0, canvas.width, canvas.height);
    const max = Math.max(...stats.shares, 1e-9);
    const w = canvas.width / E;
    stats.shares.forEach((s, e) => {
      g.fillStyle = expertColour(e, E);
      const h = (s / max) * (canvas.height - 2);
      g.fillRect(e * w, canvas.height - h, Math.max(1, w - 1), h);
    });
    // the balanced share, for reference
    g.strokeStyle = 'rgba(128,128,128,0.9)';
    g.beginPath();
    const y = canvas.height - (1 / E / max) * (canvas.height - 2);
    g.moveTo(0, y);
    g.lineTo(canvas.width, y);
    g.stroke();
  }, [stats]);
  return <canvas ref={ref} className="load-bars" aria-label="share of assignments per expert" />;
}

export function ExpertLoad() {
  const trace = useAppStore((s) => s.trace);
  const version = useAppStore((s) => s.trace?.version);
  if (!trace || trace.layers.length === 0) return null;
  void version;
  const E = trace.model.numExperts;
  return (
    <section className="panel" aria-labelledby="load-title" data-testid="expert-load">
      <h2 id="load-title">Expert load</h2>
      <p className="note">
        Bars: share of the token × top-k assignments per expert (grey line: perfectly balanced). CV: coefficient of variation of
        the counts. Aux loss: E·Σ f·P (k when balanced). Entropy: mean router entropy ÷ log E (1 = uniform router).
      </p>
      <table className="load-table">
        <thead>
          <tr>
            <th>layer</th>
            <th>load per expert</th>
            <th>CV</th>
            <th>aux loss</th>
            <th>entropy / log E</th>
          </tr>
        </thead>
        <tbody>
          {trace.layers.map((l) => {
            const s = layerLoad(l, E);
            return (
              <tr key={l.layer} data-layer={l.layer} data-cv={s.coefficientOfVariation.toFixed(4)}>
                <td>{l.layer}</td>
                <td>
                  <Bars stats={s} />
                </td>
                <td>{s.coefficientOfVariation.toFixed(2)}</td>
                <td>{s.auxLoss.toFixed(2)}</td>
                <td>{s.normalizedEntropy.toFixed(2)}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </section>
  );
}
