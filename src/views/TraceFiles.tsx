// Export the trace (moescope.trace/1 JSON, or CSV of every routing decision) and import one to view it
// without a model.

import { importTrace } from '../app/actions.ts';
import { traceToFile, type TraceState } from '../store/traceSlice.ts';
import { useAppStore } from '../store/useAppStore.ts';
import { download } from './download.ts';


/** One row per (layer, token, rank): the choice, its weight, and the token. */
export function traceCsv(t: TraceState): string {
  const lines = ['layer,token_index,token_id,token_text,rank,expert,weight'];
  for (const l of t.layers) {
    l.experts.forEach((experts, row) => {
      const tok = t.tokens[row];
      experts.forEach((e, rank) => lines.push([l.layer, row, tok?.id ?? '', JSON.stringify(tok?.text ?? ''), rank, e, l.weights[row]?.[rank] ?? ''].join(',')));
    });
  }
  return lines.join('\n') + '\n';
}

export function TraceFiles() {
  const trace = useAppStore((s) => s.trace);
  return (
    <section className="panel trace-files" aria-label="Export or import a trace">
      <button type="button" data-testid="export-json" disabled={!trace} onClick={() => trace && download('moescope-trace.json', new Blob([JSON.stringify(traceToFile(trace))], { type: 'application/json' }))}>
        Export trace JSON
      </button>
      <button type="button" data-testid="export-csv" disabled={!trace} onClick={() => trace && download('moescope-trace.csv', new Blob([traceCsv(trace)], { type: 'text/csv' }))}>
        Export CSV
      </button>
      <label className="button-like">
        Import trace JSON…
        <input type="file" accept=".json,application/json" data-testid="import-json" onChange={(e) => e.target.files?.[0] && void importTrace(e.target.files[0])} />
      </label>
    </section>
  );
}
