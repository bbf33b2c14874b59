import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { buildCheckpoint, SYNTHETIC } from '../helpers/syntheticCheckpoints.ts';

const dir = mkdtempSync(join(tmpdir(), 'moescope-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function writeFolder(name: string, files: ReturnType<typeof buildCheckpoint>): Promise<string> {
  const folder = join(dir, name);
  const { mkdirSync } = await import('node:fs');
  mkdirSync(folder);
  for (const f of files) writeFileSync(join(folder, f.name), await f.read(0, f.size));
  return folder;
}

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...a) => void out.push(a.join(' ')));
  const error = vi.spyOn(console, 'error').mockImplementation((...a) => void err.push(a.join(' ')));
  try {
    return { code: await main(args), out: out.join('\n'), err: err.join('\n') };
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
}

describe('npx moescope inspect', () => {
  it('prints the model card of a sharded checkpoint folder', async () => {
    const folder = await writeFolder('qwen2', buildCheckpoint(SYNTHETIC['Qwen2MoeForCausalLM']!, { shards: 2, extraFiles: { 'README.md': 'x' } }));
    const { code, out } = await run(['inspect', folder, '--context', '128']);
    expect(code).toBe(0);
    expect(out).toMatch(/architecture\s+Qwen2MoeForCausalLM/);
    expect(out).toMatch(/layers\s+2 \(MoE: 1\)/);
    expect(out).toMatch(/experts\s+4 routed, top-2; shared: width 12, sigmoid-gated/);
    expect(out).toMatch(/model-00001-of-00002\.safetensors/);
    expect(out).toMatch(/tokenizer\s+none \(run from token ids\)/);
    expect(out).toMatch(/ignored files\s+README\.md/);
  });

  it('says what is wrong with a broken checkpoint and exits 1', async () => {
    const files = buildCheckpoint(SYNTHETIC['OlmoeForCausalLM']!, { dropTensor: 'model.layers.0.mlp.gate.weight' });
    const folder = await writeFolder('broken', files);
    const { code, err } = await run(['inspect', folder]);
    expect(code).toBe(1);
    expect(err).toMatch(/missing model\.layers\.0\.mlp\.gate\.weight/);
    expect((await run(['inspect', join(dir, 'nope')])).err).toMatch(/nope is missing: no such file or directory/);
  });
});
