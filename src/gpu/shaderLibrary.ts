// WGSL sources by file name. The browser build and Node read the same files in shaders/, each its own way
// (Vite's import.meta.glob, node:fs); the engine only sees this interface.

export interface ShaderLibrary {
  /** The text of shaders/<name>.wgsl. */
  source(name: string): string;
}

export class ShaderNotFoundError extends Error {
  constructor(name: string, known: readonly string[]) {
    super(`shader "${name}.wgsl" not found in shaders/ (have: ${known.join(', ') || 'none'})`);
    this.name = 'ShaderNotFoundError';
  }
}

/**
 * The one templating mechanism shaders use: a line `#include "name"` is replaced by shaders/name.wgsl
 * (once per shader, recursively). Everything else a variant needs is an `override` constant.
 */
const INCLUDE = /^#include "([\w-]+)"\s*$/gm;

/** A library over a fixed map of name → source. */
export function shaderLibraryFromMap(sources: ReadonlyMap<string, string>): ShaderLibrary {
  const raw = (name: string): string => {
    const text = sources.get(name);
    if (text === undefined) throw new ShaderNotFoundError(name, [...sources.keys()]);
    return text;
  };
  const expand = (name: string, seen: Set<string>): string =>
    raw(name).replace(INCLUDE, (_, included: string) => {
      if (seen.has(included)) return '';
      seen.add(included);
      return expand(included, seen);
    });
  return { source: (name) => expand(name, new Set([name])) };
}
