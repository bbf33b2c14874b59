// The checkpoints written by HF transformers itself (tools/make_fixtures.py, tools/demo/train_demo.py) and what
// transformers computed on them (reference.json, see tools/hf_reference.py).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface HfReference {
  transformers: string;
  architecture: string;
  prompt: string;
  promptIds: number[];
  /** [promptLength][vocab] */
  logits: number[][];
  /** MoE layer → [promptLength][numExperts] */
  routerLogits: Record<string, number[][]>;
  /** greedy continuation (transformers generate, do_sample=False) */
  greedy: number[];
  /** the logits each greedy token was chosen from (generate's output_logits); fixtures written since 2026-11-23 */
  stepLogits?: number[][];
  /** string → token ids from HF tokenizers */
  tokenizer: Record<string, number[]>;
}

export interface HfFixture {
  name: string;
  dir: string;
  reference: HfReference;
}

const root = new URL('../fixtures/', import.meta.url).pathname;

/** Every HF-written tiny fixture (one per architecture), plus the demo model shipped in public/. */
export function hfFixtures(): HfFixture[] {
  const dirs = readdirSync(join(root, 'hf')).map((name) => ({ name, dir: join(root, 'hf', name), ref: join(root, 'hf', name, 'reference.json') }));
  dirs.push({ name: 'demo model', dir: new URL('../../public/models/moescope-demo-16x', import.meta.url).pathname, ref: join(root, 'demo-reference.json') });
  for (const d of dirs) if (!existsSync(d.ref)) throw new Error(`${d.ref} missing: fixtures are written by tools/make_fixtures.py and tools/demo/train_demo.py`);
  return dirs.map((d) => ({ name: d.name, dir: d.dir, reference: JSON.parse(readFileSync(d.ref, 'utf8')) as HfReference }));
}
