// The "layer" dropdown the per-layer views share.

export function LayerSelect({ layers, value, onChange, testId }: { layers: readonly number[]; value: number; onChange: (layer: number) => void; testId?: string }) {
  return (
    <label>
      layer{' '}
      <select value={value} onChange={(e) => onChange(Number(e.target.value))} data-testid={testId}>
        {layers.map((l) => (
          <option key={l} value={l}>
            {l}
          </option>
        ))}
      </select>
    </label>
  );
}
