// Token × expert heatmaps: every MoE layer as a small multiple, plus one large with hover details.
// Canvas, not DOM cells: 2,048 tokens × 64 experts × 24 layers stays responsive.

import { useEffect, useRef, useState } from 'react';
import { appStore, type HeatmapColour } from '../store/appStore.ts';
import type { LayerRows, TraceState } from '../store/traceSlice.ts';
import { useAppStore } from '../store/useAppStore.ts';
import { cssColour } from './colour.ts';
import { downloadCanvas } from './download.ts';
import { softmaxRow as softmax } from '../analysis/routingStats.ts';
import { layerPixels } from './heatmapData.ts';

/** Small multiple: one pixel per cell, scaled by CSS. */
function SmallHeatmap({ trace, layer, colour, focused }: { trace: TraceState; layer: LayerRows; colour: HeatmapColour; focused: boolean }) {
  const ref = useRef<HTMLCanvasElement>(null);
  const E = trace.model.numExperts;
  const rows = layer.experts.length;
  useEffect(() => {
    const canvas = ref.current;
    const g = canvas?.getContext('2d');
    const pixels = layerPixels(layer, E, colour);
    if (!canvas || !g || !pixels) return;
    canvas.width = E;
    canvas.height = rows;
    g.putImageData(new ImageData(pixels.rgba, E, rows), 0, 0);
  }, [trace.version, layer, rows, E, colour]);
  return (
    <figure className={`heatmap-small${focused ? ' focused' : ''}`}>
      <button type="button" className="plain" onClick={() => appStore.getState().set({ focusLayer: layer.layer })} aria-label={`Show layer ${layer.layer} large`}>
        <canvas ref={ref} data-testid="routing-heatmap" data-layer={layer.layer} data-tokens={rows} data-experts={E} />
      </button>
      <figcaption>layer {layer.layer}</figcaption>
    </figure>
  );
}

let scratch: HTMLCanvasElement | null = null;

/** A canvas off the page, of the given size, to scale a heatmap's image from. */
function scratchCanvas(width: number, height: number): HTMLCanvasElement {
  scratch ??= document.createElement('canvas');
  scratch.width = width;
  scratch.height = height;
  return scratch;
}

interface Hover {
  row: number;
  expert: number;
  x: number;
  y: number;
}

/** The large view: cells big enough to see, chosen experts outlined, details on hover. */
function LargeHeatmap({ trace, layer, colour }: { trace: TraceState; layer: LayerRows; colour: HeatmapColour }) {
  const ref = useRef<HTMLCanvasElement>(null);
  const [hover, setHover] = useState<Hover | null>(null);
  const E = trace.model.numExperts;
  const rows = layer.experts.length;
  const cellW = Math.max(3, Math.min(48, Math.floor(900 / E)));
  const cellH = Math.max(3, Math.min(16, Math.floor(640 / Math.max(1, rows))));
  useEffect(() => {
    const canvas = ref.current;
    const g = canvas?.getContext('2d');
    if (!canvas || !g) return;
    canvas.width = E * cellW;
    canvas.height = Math.max(1, rows * cellH);
    const pixels = layerPixels(layer, E, colour);
    if (!pixels) return;
    // the one-pixel-per-cell image, scaled up without smoothing: one draw, not a rectangle per cell
    const cells = scratchCanvas(E, rows);
    cells.getContext('2d')!.putImageData(new ImageData(pixels.rgba, E, rows), 0, 0);
    g.imageSmoothingEnabled = false;
    g.drawImage(cells, 0, 0, E * cellW, rows * cellH);
    if (cellW >= 6 && cellH >= 6) {
      g.strokeStyle = '#fff';
      g.lineWidth = 1;
      for (let r = 0; r < rows; r++) {
        for (const e of layer.experts[r] ?? []) g.strokeRect(e * cellW + 0.5, r * cellH + 0.5, cellW - 1, cellH - 1);
      }
    }
  }, [trace.version, layer, rows, E, colour, cellW, cellH]);

  const token = hover ? trace.tokens[hover.row] : undefined;
  const probs = hover ? softmax(layer.routerLogits[hover.row] ?? []) : [];
  const ranked = probs.map((p, e) => ({ p, e })).sort((a, b) => b.p - a.p).slice(0, 8);
  return (
    <div className="heatmap-large">
      <h3>
        Layer {layer.layer} <span className="note">tokens ↓ × experts → · hover a cell</span>{' '}
        <button type="button" data-testid="export-png" onClick={() => downloadCanvas(ref.current, `moescope-layer-${layer.layer}.png`)}>
          Export PNG
        </button>
      </h3>
      <div className="heatmap-large-body">
        <canvas
          ref={ref}
          data-testid="routing-heatmap-focus"
          data-layer={layer.layer}
          onMouseMove={(ev) => {
            const rect = ev.currentTarget.getBoundingClientRect();
            const x = ((ev.clientX - rect.left) / rect.width) * ev.currentTarget.width;
            const y = ((ev.clientY - rect.top) / rect.height) * ev.currentTarget.height;
            const row = Math.floor(y / cellH);
            const expert = Math.floor(x / cellW);
            setHover(row >= 0 && row < rows && expert >= 0 && expert < E ? { row, expert, x: ev.clientX, y: ev.clientY } : null);
          }}
          onMouseLeave={() => setHover(null)}
        />
        {hover && token && (
          <div className="tooltip" style={{ left: hover.x + 16, top: hover.y + 8 }} data-testid="heatmap-tooltip">
            <strong>
              #{hover.row} “{token.text}”
            </strong>{' '}
            {hover.row < trace.promptLength ? '(prompt)' : '(generated)'}
            <div>expert {hover.expert}: p = {(probs[hover.expert] ?? 0).toFixed(3)}</div>
            <div>
              chosen:{' '}
              {(layer.experts[hover.row] ?? []).map((e, i) => `${e} (${(layer.weights[hover.row]?.[i] ?? 0).toFixed(3)})`).join(', ')}
            </div>
            <div className="dist">
              {ranked.map(({ p, e }) => (
                <div key={e} className="dist-row">
                  <span>{e}</span>
                  <span className="bar" style={{ width: `${(p * 100).toFixed(1)}%`, background: cssColour(p) }} />
                  <span>{p.toFixed(3)}</span>
                </div>
              ))}
            </div>
          </div>
        )}
      </div>
    </div>
  );
}

function Legend({ colour }: { colour: HeatmapColour }) {
  const stops = Array.from({ length: 11 }, (_, i) => cssColour(i / 10)).join(',');
  return (
    <div className="legend" aria-label="colour scale">
      <span>0</span>
      <span className="legend-bar" style={{ background: `linear-gradient(to right, ${stops})` }} />
      <span>1</span>
      <span className="note">{colour === 'weight' ? 'combine weight of chosen experts (others 0)' : 'router softmax probability'}</span>
    </div>
  );
}

export function RoutingHeatmaps() {
  const trace = useAppStore((s) => s.trace);
  const version = useAppStore((s) => s.trace?.version);
  const colour = useAppStore((s) => s.heatmapColour);
  const focusLayer = useAppStore((s) => s.focusLayer);
  if (!trace || trace.layers.length === 0) return null;
  void version;
  const focus = trace.layers.find((l) => l.layer === focusLayer) ?? trace.layers[0]!;
  return (
    <section className="panel" aria-labelledby="heatmap-title">
      <h2 id="heatmap-title">Routing heatmaps</h2>
      <div className="controls">
        <label>
          colour{' '}
          <select value={colour} onChange={(e) => appStore.getState().set({ heatmapColour: e.target.value as HeatmapColour })}>
            <option value="weight">combine weight</option>
            <option value="probability">router probability</option>
          </select>
        </label>
        <Legend colour={colour} />
      </div>
      <div className="heatmap-grid">
        {trace.layers.map((layer) => (
          <SmallHeatmap key={layer.layer} trace={trace} layer={layer} colour={colour} focused={layer.layer === focus.layer} />
        ))}
      </div>
      <LargeHeatmap trace={trace} layer={focus} colour={colour} />
    </section>
  );
}
