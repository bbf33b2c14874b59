// Save a Blob or a canvas as a file the browser downloads.

export function download(name: string, blob: Blob): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

export function downloadCanvas(canvas: HTMLCanvasElement | null | undefined, name: string): void {
  canvas?.toBlob((blob) => blob && download(name, blob), 'image/png');
}

/** Categorical colour for expert e of E: evenly spaced hues, alternating lightness for neighbours. */
export function expertColour(e: number, E: number): string {
  return `hsl(${Math.round((360 * e) / Math.max(1, E))}, 70%, ${e % 2 ? 42 : 58}%)`; // comma syntax: three.js parses it too
}
