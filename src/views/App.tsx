import { GpuPanel } from './GpuPanel.tsx';

export function App({ onSelfTest }: { onSelfTest: () => void }) {
  return (
    <div className="app">
      <header className="app-header">
        <h1>MoEScope</h1>
        <p className="tagline">See how a Mixture-of-Experts model routes every token, layer by layer, on your GPU.</p>
      </header>
      <main>
        <GpuPanel onSelfTest={onSelfTest} />
      </main>
    </div>
  );
}
