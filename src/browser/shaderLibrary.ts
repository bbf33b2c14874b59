// The browser's view of shaders/: Vite inlines every .wgsl file as text at build time.

import { shaderLibraryFromMap, type ShaderLibrary } from '../gpu/shaderLibrary.ts';

const files = import.meta.glob<string>('../../shaders/*.wgsl', { query: '?raw', import: 'default', eager: true });

export function browserShaderLibrary(): ShaderLibrary {
  const sources = new Map<string, string>();
  for (const [path, text] of Object.entries(files)) {
    const name = path.split('/').pop()?.replace(/\.wgsl$/, '');
    if (name) sources.set(name, text);
  }
  return shaderLibraryFromMap(sources);
}
