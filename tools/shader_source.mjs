// A shader's source with its #includes expanded, as src/gpu/shaderLibrary.ts does for the engine (each
// include once; name.subgroups.wgsl in place of name.wgsl where it exists and `subgroups` is asked for;
// `enable` directives hoisted to the top), for the measuring tools (matmul_variants, matvec_cost, attention_cost).
// `dir`: a folder whose .wgsl files replace shaders/'s (CANDIDATE_SHADERS).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const shaderDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'shaders');
const ENABLE = /^enable [\w, ]+;\s*$/gm;

export function shaderSource(name, { dir = shaderDir, subgroups = false } = {}) {
  const pick = (n) => (existsSync(join(dir, `${n}.wgsl`)) ? join(dir, `${n}.wgsl`) : join(shaderDir, `${n}.wgsl`));
  const expand = (n, seen) => {
    const variant = pick(`${n}.subgroups`);
    const file = subgroups && existsSync(variant) ? variant : pick(n);
    return readFileSync(file, 'utf8').replace(/^#include "([\w-]+)"\s*$/gm, (_, inc) => {
      if (seen.has(inc)) return '';
      seen.add(inc);
      return expand(inc, seen);
    });
  };
  const text = expand(name, new Set([name]));
  const enables = [...new Set(text.match(ENABLE)?.map((line) => line.trim()) ?? [])];
  return enables.length ? `${enables.join('\n')}\n${text.replace(ENABLE, '')}` : text;
}
