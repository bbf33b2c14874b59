import { AnalysisPanel } from './AnalysisPanel.tsx';
import { Coactivation } from './Coactivation.tsx';
import { DropZone } from './DropZone.tsx';
import { ExpertLoad } from './ExpertLoad.tsx';
import { GpuPanel } from './GpuPanel.tsx';
import { ModelPanel } from './ModelPanel.tsx';
import { PromptPanel } from './PromptPanel.tsx';
import { RoutingHeatmaps } from './RoutingHeatmaps.tsx';
import { RoutingPaths } from './RoutingPaths.tsx';
import { TokenStream } from './TokenStream.tsx';
import { TokenStrip } from './TokenStrip.tsx';
import { TraceFiles } from './TraceFiles.tsx';

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
        <PromptPanel />
        <TokenStream />
        <RoutingHeatmaps />
        <TokenStrip />
        <RoutingPaths />
        <ExpertLoad />
        <Coactivation />
        <AnalysisPanel />
        <TraceFiles />
        <GpuPanel onSelfTest={onSelfTest} />
      </main>
    </div>
  );
}
