// The "layer" dropdown the per-layer views share.

export function LayerSelect({ layers, value, onChange }: { layers: readonly number[]; value: number; onChange: (layer: number) => void }) {
  return (
    <label>
      layer{' '}
      <select value={value} onChange={(e) => onChange(Number(e.target.value))}>
        {layers.map((l) => (
          <option key={l} value={l}>
            {l}
          </option>
        ))}
      </select>
    </label>
  );
}
