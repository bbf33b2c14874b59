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

/** A library over a fixed map of name → source. */
export function shaderLibraryFromMap(sources: ReadonlyMap<string, string>): ShaderLibrary {
  return {
    source(name) {
      const text = sources.get(name);
      if (text === undefined) throw new ShaderNotFoundError(name, [...sources.keys()]);
      return text;
    },
  };
}
