// The plots of the analysis panel: a heatmap of any matrix (fixed or own colour range, with a legend) and a
// 2-D scatter coloured by expert. Both draw to a canvas and export it as PNG.

import { useEffect, useRef } from 'react';
import type { ScatterPoints } from '../analysis/result.ts';
import { cssColour } from './colour.ts';
import { downloadCanvas, expertColour } from './download.ts';

function PngButton({ canvas, name }: { canvas: React.RefObject<HTMLCanvasElement | null>; name: string }) {
  return (
    <button type="button" className="small" onClick={() => downloadCanvas(canvas.current, `moescope-${name.replace(/[^\w-]+/g, '_')}.png`)}>
      PNG
    </button>
  );
}

/** A matrix as a canvas; `range` fixes the colour scale, else the matrix's own min…max. */
export function MatrixCanvas({ name, rows, layer, range }: { name: string; rows: number[][]; layer: number; range: [number, number] | null }) {
  const ref = useRef<HTMLCanvasElement>(null);
  const [lo, hi] = range ?? extent(rows.flat());
  useEffect(() => {
    const canvas = ref.current;
    const g = canvas?.getContext('2d');
    if (!canvas || !g) return;
    const R = rows.length;
    const C = rows[0]?.length ?? 0;
    const cell = Math.max(1, Math.floor(240 / Math.max(R, C)));
    canvas.width = C * cell;
    canvas.height = R * cell;
    rows.forEach((row, i) =>
      row.forEach((v, j) => {
        g.fillStyle = cssColour(hi > lo ? (v - lo) / (hi - lo) : 0.5);
        g.fillRect(j * cell, i * cell, cell, cell);
      }),
    );
  }, [rows, lo, hi]);
  const wide = (rows[0]?.length ?? 0) > 2 * rows.length;
  return (
    <figure className={wide ? 'matrix wide' : 'matrix'}>
      <canvas ref={ref} data-testid="analysis-matrix" data-name={name} data-layer={layer} data-rows={rows.length} data-cols={rows[0]?.length ?? 0} />
      <figcaption>
        {name} <span className="note">{fmt(lo)} … {fmt(hi)}</span> <PngButton canvas={ref} name={`${name}-layer-${layer}`} />
      </figcaption>
    </figure>
  );
}

export const extent = (values: readonly number[]): [number, number] => values.reduce<[number, number]>(([a, b], v) => [Math.min(a, v), Math.max(b, v)], [Infinity, -Infinity]);
const fmt = (v: number) => (Math.abs(v) >= 100 || Number.isInteger(v) ? v.toFixed(0) : v.toPrecision(3));

/** PCA points, one colour per expert. */
export function ScatterCanvas({ name, data, layer, experts }: { name: string; data: ScatterPoints; layer: number; experts: number }) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const canvas = ref.current;
    const g = canvas?.getContext('2d');
    if (!canvas || !g) return;
    const size = 260;
    canvas.width = canvas.height = size;
    const [x0, x1] = extent(data.points.map((p) => p[0]!));
    const [y0, y1] = extent(data.points.map((p) => p[1]!));
    const sx = (x: number) => 10 + ((x - x0) / (x1 - x0 || 1)) * (size - 20);
    const sy = (y: number) => size - 10 - ((y - y0) / (y1 - y0 || 1)) * (size - 20);
    g.fillStyle = '#fff';
    g.fillRect(0, 0, size, size);
    const few = data.points.length <= 64;
    data.points.forEach((p, i) => {
      g.fillStyle = expertColour(data.group[i]!, experts);
      g.beginPath();
      g.arc(sx(p[0]!), sy(p[1]!), few ? 4 : 1.5, 0, 2 * Math.PI);
      g.fill();
      if (few) {
        g.fillStyle = '#222';
        g.font = '10px sans-serif';
        g.fillText(String(data.group[i]), sx(p[0]!) + 5, sy(p[1]!) - 4);
      }
    });
  }, [data, experts]);
  return (
    <figure className="matrix">
      <canvas ref={ref} data-testid="analysis-scatter" data-name={name} data-points={data.points.length} />
      <figcaption>
        {name} <span className="note">PC1 {(100 * data.explained[0]!).toFixed(1)} %, PC2 {(100 * (data.explained[1] ?? 0)).toFixed(1)} % of variance</span>{' '}
        <PngButton canvas={ref} name={`${name}-pca-layer-${layer}`} />
      </figcaption>
    </figure>
  );
}
