// The prompt: text (or token ids when the checkpoint has no tokenizer), chat template switch, length
// and sampling settings, Run and Stop.

import { useState } from 'react';
import { runPrompt, stopPrompt } from '../app/actions.ts';
import { DEMO_MODEL } from '../browser/demoModel.ts';
import { useAppStore } from '../store/useAppStore.ts';

export function PromptPanel() {
  const model = useAppStore((s) => s.model);
  const run = useAppStore((s) => s.run);
  const [text, setText] = useState('The experts of a mixture of experts model');
  const [chat, setChat] = useState(false);
  const [maxNewTokens, setMaxNewTokens] = useState(24);
  const [temperature, setTemperature] = useState(0);
  const [seed, setSeed] = useState(0);
  if (model.kind !== 'opened') return null;
  if (model.opened.unsupported) {
    return (
      <section className="panel" data-testid="unsupported">
        <h2>Prompt</h2>
        <p>This checkpoint loads, but the engine cannot run it yet: {model.opened.unsupported}.</p>
      </section>
    );
  }
  const { hasTokenizer, hasChatTemplate, vocabSize } = model.opened;
  const running = run.kind === 'running';
  const idsError = !hasTokenizer && !/^\s*\d+(\s*,\s*\d+)*\s*$/.test(text) ? 'Enter token ids separated by commas, e.g. 1, 5, 9' : null;
  const submit = () => {
    if (idsError) return;
    const prompt = hasTokenizer ? { text, chat } : { ids: text.split(',').map((s) => Number(s.trim()) % vocabSize) };
    void runPrompt({ prompt, maxNewTokens, temperature, topK: 0, topP: 1, seed });
  };
  return (
    <section className="panel prompt-panel" aria-labelledby="prompt-title">
      <h2 id="prompt-title">Prompt</h2>
      <textarea
        data-testid="prompt"
        value={text}
        rows={3}
        onChange={(e) => setText(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) submit();
        }}
        aria-label={hasTokenizer ? 'Prompt text' : 'Prompt token ids'}
        placeholder={hasTokenizer ? 'Type text…' : 'Token ids, e.g. 1, 5, 9'}
      />
      {idsError && <p className="error-text">{idsError}</p>}
      {model.demo && (
        <div className="controls" aria-label="Example prompts">
          Examples (one per training domain: compare their heatmaps):
          {Object.entries(DEMO_MODEL.examples).map(([domain, example]) => (
            <button type="button" key={domain} data-testid={`example-${domain}`} onClick={() => setText(example)}>
              {domain}
            </button>
          ))}
        </div>
      )}
      <div className="controls">
        {hasChatTemplate && (
          <label>
            <input type="checkbox" checked={chat} onChange={(e) => setChat(e.target.checked)} /> chat template
          </label>
        )}
        <label>
          new tokens <input type="number" min={0} max={2048} value={maxNewTokens} onChange={(e) => setMaxNewTokens(Math.max(0, Number(e.target.value)))} />
        </label>
        <label>
          temperature <input type="number" min={0} step={0.1} value={temperature} onChange={(e) => setTemperature(Math.max(0, Number(e.target.value)))} />
        </label>
        <label>
          seed <input type="number" value={seed} onChange={(e) => setSeed(Math.trunc(Number(e.target.value)))} />
        </label>
        <button type="button" data-testid="run" onClick={submit} disabled={running || idsError !== null}>
          Run
        </button>
        <button type="button" data-testid="stop" onClick={stopPrompt} disabled={!running}>
          Stop
        </button>
      </div>
      {run.kind === 'failed' && (
        <p className="error-text" role="alert" data-testid="error">
          {run.message}
        </p>
      )}
    </section>
  );
}
