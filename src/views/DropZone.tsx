// Where a checkpoint comes in: drop a folder or files, or pick them (files, or a whole folder).

import { useState, type DragEvent } from 'react';
import { loadDemoModel, openCheckpoint } from '../app/actions.ts';
import { filesFromDrop, filesFromInput } from '../browser/droppedFiles.ts';

export function DropZone() {
  const [over, setOver] = useState(false);
  const onDrop = (event: DragEvent<HTMLDivElement>) => {
    event.preventDefault();
    setOver(false);
    void filesFromDrop(event.dataTransfer).then(openCheckpoint);
  };
  return (
    <section
      className={`panel drop-zone${over ? ' drop-over' : ''}`}
      data-testid="drop-zone"
      onDragOver={(e) => {
        e.preventDefault();
        setOver(true);
      }}
      onDragLeave={() => setOver(false)}
      onDrop={onDrop}
      aria-label="Drop a Hugging Face checkpoint folder here"
    >
      <h2>Open a model</h2>
      <p>
        Drop a Hugging Face checkpoint folder here: <code>config.json</code>, <code>*.safetensors</code> (or shards with
        their index), and <code>tokenizer.json</code>. Supported: Mixtral, Qwen2-MoE, Qwen3-MoE, OLMoE, GraniteMoE,
        PhiMoE, DeepSeek-V3.
      </p>
      <div className="pickers">
        <button type="button" data-testid="load-demo" onClick={() => void loadDemoModel()} title="A 17 M-parameter Mixtral-style model, 16 experts top-2, trained for MoEScope on code, prose, a dictionary, German and tables">
          Load demo model
        </button>
        <label className="button-like">
          Pick files…
          <input type="file" multiple data-testid="file-input" onChange={(e) => void openCheckpoint(filesFromInput(e.target.files))} />
        </label>
        <label className="button-like">
          Pick a folder…
          <input
            type="file"
            multiple
            data-testid="folder-input"
            ref={(el) => el?.setAttribute('webkitdirectory', '')}
            onChange={(e) => void openCheckpoint(filesFromInput(e.target.files))}
          />
        </label>
      </div>
    </section>
  );
}
