import { DropZone } from './DropZone.tsx';
import { GpuPanel } from './GpuPanel.tsx';
import { ModelPanel } from './ModelPanel.tsx';

export function App({ onSelfTest }: { onSelfTest: () => void }) {
  return (
    <div className="app">
      <header className="app-header">
        <h1>MoEScope</h1>
        <p className="tagline">See how a Mixture-of-Experts model routes every token, layer by layer, on your GPU.</p>
      </header>
      <main>
        <DropZone />
        <ModelPanel />
        <GpuPanel onSelfTest={onSelfTest} />
      </main>
    </div>
  );
}
