// Node's view of shaders/: read the .wgsl files from disk, the same files Vite bundles for the browser.

import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { shaderLibraryFromMap, type ShaderLibrary } from '../gpu/shaderLibrary.ts';

export const SHADER_DIR = fileURLToPath(new URL('../../shaders/', import.meta.url));

export function nodeShaderLibrary(dir = SHADER_DIR): ShaderLibrary {
  const sources = new Map<string, string>();
  for (const file of readdirSync(dir)) {
    if (file.endsWith('.wgsl')) sources.set(file.slice(0, -'.wgsl'.length), readFileSync(`${dir}/${file}`, 'utf8'));
  }
  return shaderLibraryFromMap(sources);
}
