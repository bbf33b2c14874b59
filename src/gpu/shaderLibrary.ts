// WGSL sources by file name. The browser build and Node read the same files in shaders/, each its own way
// (Vite's import.meta.glob, node:fs); the engine only sees this interface.

/** Optional GPU features a shader's includes may use (the device must have them). */
export interface ShaderFeatures {
  subgroups?: boolean;
}

export interface ShaderLibrary {
  /** The text of shaders/<name>.wgsl, its includes expanded for these features. */
  source(name: string, features?: ShaderFeatures): string;
}

export class ShaderNotFoundError extends Error {
  constructor(name: string, known: readonly string[]) {
    super(`shader "${name}.wgsl" not found in shaders/ (have: ${known.join(', ') || 'none'})`);
    this.name = 'ShaderNotFoundError';
  }
}

/**
 * The one templating mechanism shaders use: a line `#include "name"` is replaced by shaders/name.wgsl
 * (once per shader, recursively). With `subgroups`, shaders/name.subgroups.wgsl replaces it where that
 * file exists: the same functions written with subgroup operations. `enable` directives of included
 * files move to the top, where WGSL wants them. Everything else a variant needs is an `override` constant.
 */
const INCLUDE = /^#include "([\w-]+)"\s*$/gm;
const ENABLE = /^enable [\w, ]+;\s*$/gm;

/** A library over a fixed map of name → source. */
export function shaderLibraryFromMap(sources: ReadonlyMap<string, string>): ShaderLibrary {
  const raw = (name: string): string => {
    const text = sources.get(name);
    if (text === undefined) throw new ShaderNotFoundError(name, [...sources.keys()]);
    return text;
  };
  const expand = (name: string, seen: Set<string>, features: ShaderFeatures): string =>
    raw(name).replace(INCLUDE, (_, included: string) => {
      if (seen.has(included)) return '';
      seen.add(included);
      const variant = `${included}.subgroups`;
      return expand(features.subgroups && sources.has(variant) ? variant : included, seen, features);
    });
  return {
    source(name, features = {}) {
      const text = expand(name, new Set([name]), features);
      const enables = [...new Set(text.match(ENABLE)?.map((line) => line.trim()) ?? [])];
      return enables.length ? `${enables.join('\n')}\n${text.replace(ENABLE, '')}` : text;
    },
  };
}
