// Opening progress (per file and overall: bytes, MB/s, time left), the loaded model's card, or what went
// wrong and what to do.

import { cancelLoading } from '../app/actions.ts';
import { useAppStore } from '../store/useAppStore.ts';
import { mebibytes, millions, seconds } from '../util/format.ts';

function Progress() {
  const model = useAppStore((s) => s.model);
  if (model.kind !== 'opening' && model.kind !== 'downloading') return null;
  const p = model.progress;
  if (!p && model.kind === 'opening') return <section className="panel" aria-live="polite">Reading {model.fileCount} files ({mebibytes(model.totalBytes)})…</section>;
  if (!p) return null;
  const elapsed = (performance.now() - p.startedAt) / 1000;
  const rate = elapsed > 0 ? p.bytesDone / elapsed : 0;
  const left = rate > 0 ? (p.bytesTotal - p.bytesDone) / rate : 0;
  return (
    <section className="panel" aria-live="polite" data-testid="load-progress">
      <h2>{model.kind === 'downloading' ? `Downloading the demo model (${model.name})` : 'Loading weights onto the GPU'}</h2>
      <progress max={p.bytesTotal} value={p.bytesDone} style={{ width: '100%' }} />
      <p>
        {mebibytes(p.bytesDone)} of {mebibytes(p.bytesTotal)} · {(rate / 1e6).toFixed(0)} MB/s · {seconds(left)} left
      </p>
      <button type="button" data-testid="cancel-load" onClick={cancelLoading}>
        Cancel
      </button>
      <ul className="file-progress">
        {Object.entries(p.files).map(([name, f]) => (
          <li key={name}>
            {name}: {((100 * f.done) / Math.max(1, f.total)).toFixed(0)}%
          </li>
        ))}
      </ul>
    </section>
  );
}

const TITLES: Record<string, string> = {
  UploadCancelledError: 'Loading cancelled',
  DeviceLost: 'The GPU was lost',
  WorkerCrashed: 'The engine stopped',
};

export function ModelPanel() {
  const model = useAppStore((s) => s.model);
  switch (model.kind) {
    case 'empty':
      return null;
    case 'downloading':
    case 'opening':
      return <Progress />;
    case 'failed':
      return (
        <section className="panel panel-error" role="alert" data-testid="error">
          <h2>{TITLES[model.errorName] ?? 'Could not open this checkpoint'}</h2>
          <p className="error-message">{model.message}</p>
          <p className="note">
            {model.errorName === 'DeviceLost' || model.errorName === 'WorkerCrashed' ? 'The trace on screen is kept: export it, then load the model again (drop it or press “Load demo model”).' : 'Nothing else was affected: drop another folder to try again.'} ({model.errorName})
          </p>
        </section>
      );
    case 'opened': {
      const { card, hasTokenizer, hasChatTemplate, ignored, adapter, gpuBytes } = model.opened;
      const rows: [string, string, string][] = [
        ['Architecture', card.architecture, 'architecture'],
        ['Parameters', `${millions(card.totalParameters)} total · ${millions(card.activeParameters)} active per token`, 'parameters'],
        ['Layers', `${card.numLayers} (MoE: ${card.moeLayers.length === card.numLayers ? 'all' : card.moeLayers.join(', ') || 'none'})`, 'layers'],
        ['Experts', `${card.numExperts} routed · top-${card.topK}`, 'experts'],
        ['Shared experts', card.sharedExperts, 'shared'],
        ['Weights', `${card.dtype} · ${mebibytes(card.weightBytes)} in ${card.files.length} file${card.files.length > 1 ? 's' : ''}`, 'weights'],
        ['GPU memory', `${mebibytes(gpuBytes)} of weights on ${adapter.name}`, 'gpu'],
        ['GPU limits', `largest buffer ${mebibytes(adapter.limits.maxBufferSize)} · binding ${mebibytes(adapter.limits.maxStorageBufferBindingSize)}`, 'limits'],
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
