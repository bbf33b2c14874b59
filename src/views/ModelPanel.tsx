// The opened checkpoint's card, the progress of opening one, or what went wrong and what to do.

import { useAppStore } from '../store/useAppStore.ts';

const millions = (n: number) => `${(n / 1e6).toFixed(n < 1e7 ? 2 : 1)} M`;
const megabytes = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;

export function ModelPanel() {
  const model = useAppStore((s) => s.model);
  switch (model.kind) {
    case 'empty':
      return null;
    case 'opening':
      return (
        <section className="panel" aria-live="polite">
          Reading {model.fileCount} files ({megabytes(model.totalBytes)})…
        </section>
      );
    case 'failed':
      return (
        <section className="panel panel-error" role="alert" data-testid="error">
          <h2>Could not open this checkpoint</h2>
          <p className="error-message">{model.message}</p>
          <p className="note">Nothing else was affected: drop another folder to try again. ({model.errorName})</p>
        </section>
      );
    case 'opened': {
      const { card, hasTokenizer, hasChatTemplate, ignored } = model.opened;
      const rows: [string, string, string][] = [
        ['Architecture', card.architecture, 'architecture'],
        ['Parameters', `${millions(card.totalParameters)} total · ${millions(card.activeParameters)} active per token`, 'parameters'],
        ['Layers', `${card.numLayers} (MoE: ${card.moeLayers.length === card.numLayers ? 'all' : card.moeLayers.join(', ') || 'none'})`, 'layers'],
        ['Experts', `${card.numExperts} routed · top-${card.topK}`, 'experts'],
        ['Shared experts', card.sharedExperts, 'shared'],
        ['Weights', `${card.dtype} · ${megabytes(card.weightBytes)} in ${card.files.length} file${card.files.length > 1 ? 's' : ''}`, 'weights'],
        ['Tokenizer', hasTokenizer ? `tokenizer.json${hasChatTemplate ? ' + chat template' : ''}` : 'none: prompts are token ids', 'tokenizer'],
      ];
      if (ignored.length > 0) rows.push(['Ignored files', ignored.join(', '), 'ignored']);
      return (
        <section className="panel" data-testid="model-card" aria-labelledby="card-title">
          <h2 id="card-title">Model</h2>
          <dl className="limits">
            {rows.map(([label, value, id]) => (
              <div key={id} style={{ display: 'contents' }}>
                <dt>{label}</dt>
                <dd data-field={id}>{value}</dd>
              </div>
            ))}
          </dl>
        </section>
      );
    }
  }
}
