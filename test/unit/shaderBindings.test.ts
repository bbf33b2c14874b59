// Every compute shader, its includes expanded as the engine expands them, keeps to WebGPU's default
// limit of 8 storage buffers per shader stage: a pipeline that declares more fails to compile on adapters
// that offer no more (the spec's default), whatever the kernel's constants select.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nodeShaderLibrary, SHADER_DIR } from '../../src/node/shaderLibrary.ts';

const DEFAULT_MAX_STORAGE_BUFFERS_PER_SHADER_STAGE = 8; // https://www.w3.org/TR/webgpu/#limits

describe('shader bindings', () => {
  const library = nodeShaderLibrary();
  const kernels = readdirSync(SHADER_DIR)
    .filter((f) => f.endsWith('.wgsl') && !f.includes('.subgroups.'))
    .map((f) => f.slice(0, -'.wgsl'.length))
    .filter((name) => readFileSync(join(SHADER_DIR, `${name}.wgsl`), 'utf8').includes('@compute'));

  it('finds the kernels', () => {
    expect(kernels).toContain('expert_gate_up_rows');
    expect(kernels.length).toBeGreaterThan(20);
  });

  for (const subgroups of [false, true]) {
    it(`no kernel declares more than ${DEFAULT_MAX_STORAGE_BUFFERS_PER_SHADER_STAGE} storage buffers (${subgroups ? 'subgroup' : 'plain'} includes)`, () => {
      const over = kernels
        .map((name) => ({ name, storage: library.source(name, { subgroups }).match(/var<storage\b/g)?.length ?? 0 }))
        .filter((k) => k.storage > DEFAULT_MAX_STORAGE_BUFFERS_PER_SHADER_STAGE);
      expect(over).toEqual([]);
    });
  }
});
