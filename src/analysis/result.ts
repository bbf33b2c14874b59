// What an analysis returns, per MoE layer, and its CSV export. One shape for all of them: heatmaps,
// scatter plots, tables and summary numbers, each by name.

import type { AnalysisName } from './catalog.ts';

export interface ScatterPoints {
  points: number[][]; // [N, 2]
  group: number[]; // expert of each point
  explained: number[]; // variance share of each component
}

export interface Table {
  columns: string[];
  rows: (string | number)[][];
}

export interface LayerResult {
  /** The MoE layer; -1 for a summary over all layers. */
  layer: number;
  /** Heatmaps by name, row-major. */
  matrices: Record<string, number[][]>;
  points?: Record<string, ScatterPoints>;
  tables?: Record<string, Table>;
  /** Summary numbers of the layer (r², CV, JSD, …). */
  stats?: Record<string, number>;
}

export interface AnalysisResult {
  analysis: AnalysisName;
  architecture: string;
  layers: LayerResult[];
  /** What was computed on what: experts included, tokens, neurons sampled, … */
  notes: string[];
  milliseconds: number;
}

const csvCell = (v: string | number) => (typeof v === 'number' ? String(v) : `"${v.replaceAll('"', '""')}"`);

/** Long format: one line per value. */
export function analysisCsv(layers: readonly LayerResult[]): string {
  const lines = ['layer,item,row,col,value'];
  for (const l of layers) {
    for (const [name, rows] of Object.entries(l.matrices)) rows.forEach((row, i) => row.forEach((v, j) => lines.push(`${l.layer},${csvCell(name)},${i},${j},${v}`)));
    for (const [name, p] of Object.entries(l.points ?? {})) {
      p.points.forEach((xy, i) => xy.forEach((v, c) => lines.push(`${l.layer},${csvCell(`${name} pc${c + 1} (expert ${p.group[i]})`)},${i},${c},${v}`)));
    }
    for (const [name, t] of Object.entries(l.tables ?? {})) {
      t.rows.forEach((row, i) => row.forEach((v, j) => lines.push(`${l.layer},${csvCell(`${name}: ${t.columns[j]}`)},${i},${j},${csvCell(v)}`)));
    }
    for (const [name, v] of Object.entries(l.stats ?? {})) lines.push(`${l.layer},${csvCell(name)},,,${v}`);
  }
  return lines.join('\n') + '\n';
}
