// Co-activation P(b | a) for a chosen MoE layer of the trace: row a, column b = how often b is chosen
// for the same token as a, over the tokens that chose a. Updates as tokens arrive.

import { useEffect, useRef, useState } from 'react';
import { coactivation } from '../analysis/coactivation.ts';
import { useAppStore } from '../store/useAppStore.ts';
import { cssColour } from './colour.ts';
import { downloadCanvas } from './download.ts';
import { LayerSelect } from './LayerSelect.tsx';

export function Coactivation() {
  const trace = useAppStore((s) => s.trace);
  const version = useAppStore((s) => s.trace?.version);
  const [layerNumber, setLayerNumber] = useState<number | null>(null);
  const ref = useRef<HTMLCanvasElement>(null);
  const layer = trace?.layers.find((l) => l.layer === layerNumber) ?? trace?.layers[0];
  const E = trace?.model.numExperts ?? 0;
  useEffect(() => {
    const canvas = ref.current;
    const g = canvas?.getContext('2d');
    if (!canvas || !g || !layer) return;
    const m = coactivation(layer.experts, E);
    const cell = Math.max(2, Math.floor(260 / E));
    canvas.width = canvas.height = E * cell;
    for (let a = 0; a < E; a++) {
      for (let b = 0; b < E; b++) {
        g.fillStyle = cssColour(m[a * E + b]!);
        g.fillRect(b * cell, a * cell, cell, cell);
      }
    }
  }, [version, layer, E]);
  if (!trace || !layer) return null;
  return (
    <section className="panel" aria-labelledby="coact-title">
      <h2 id="coact-title">Co-activation</h2>
      <div className="controls">
        <LayerSelect layers={trace.layers.map((l) => l.layer)} value={layer.layer} onChange={setLayerNumber} />
        <button type="button" onClick={() => downloadCanvas(ref.current, `moescope-coactivation-layer-${layer.layer}.png`)}>
          Export PNG
        </button>
      </div>
      <p className="note">Row a, column b: P(b chosen | a chosen) over this trace's tokens; the diagonal is 1. Colour from 0 (dark) to 1 (bright).</p>
      <canvas ref={ref} className="coactivation" data-testid="coactivation" data-layer={layer.layer} data-experts={E} />
    </section>
  );
}
