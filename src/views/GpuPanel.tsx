// WebGPU status: the adapter in use and the limits that decide which models fit, or why there is none.

import { useAppStore } from '../store/useAppStore.ts';

function formatBytes(n: number): string {
  if (n >= 2 ** 30) return `${(n / 2 ** 30).toFixed(n % 2 ** 30 ? 1 : 0)} GiB`;
  if (n >= 2 ** 20) return `${(n / 2 ** 20).toFixed(0)} MiB`;
  if (n >= 2 ** 10) return `${(n / 2 ** 10).toFixed(0)} KiB`;
  return `${n} B`;
}

export function GpuPanel({ onSelfTest }: { onSelfTest: () => void }) {
  const gpu = useAppStore((s) => s.gpu);
  const selfTest = useAppStore((s) => s.selfTest);

  if (gpu.kind === 'connecting') return <section className="panel">Connecting to WebGPU…</section>;
  if (gpu.kind === 'unavailable') {
    return (
      <section className="panel panel-error" role="alert" data-testid="error">
        <h2>WebGPU is not available</h2>
        <p>{gpu.message}</p>
      </section>
    );
  }
  const { adapter } = gpu;
  return (
    <section className="panel" aria-labelledby="gpu-title">
      <h2 id="gpu-title">GPU</h2>
      <p>
        Adapter: <strong data-testid="adapter-name">{adapter.name}</strong>
        {adapter.isFallback && <span className="note"> (a CPU implementation: expect small models only)</span>}
      </p>
      <dl className="limits">
        <dt>Largest buffer</dt>
        <dd>{formatBytes(adapter.limits.maxBufferSize)}</dd>
        <dt>Largest storage binding</dt>
        <dd>{formatBytes(adapter.limits.maxStorageBufferBindingSize)}</dd>
        <dt>Workgroup memory</dt>
        <dd>{formatBytes(adapter.limits.maxComputeWorkgroupStorageSize)}</dd>
        <dt>shader-f16 / subgroups</dt>
        <dd>
          {adapter.features.includes('shader-f16') ? 'yes' : 'no'} / {adapter.features.includes('subgroups') ? 'yes' : 'no'}
        </dd>
      </dl>
      <button type="button" onClick={onSelfTest} data-testid="run-selftest">
        Run GPU self-test
      </button>
      {selfTest && (
        <p data-testid="selftest-result" className={'error' in selfTest || !selfTest.passed ? 'error-text' : 'ok-text'}>
          {'error' in selfTest
            ? `Self-test failed to run: ${selfTest.error}`
            : `${selfTest.passed ? 'Passed' : 'FAILED'}: router softmax + top-8 over ${selfTest.tokens} tokens × ${selfTest.experts} experts, ` +
              `max error ${selfTest.maxError.toExponential(1)}, ${selfTest.mismatchedExperts} expert choices differ, ${selfTest.milliseconds.toFixed(0)} ms`}
        </p>
      )}
    </section>
  );
}
