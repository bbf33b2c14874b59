// Build what a GPU host without network needs to run the CLI (bench, trace, generate) on its real GPU:
// ../shared/gpu/make-bundle.sh packs Node, Dawn and the Vulkan loader into .gpu/; this adds
// .gpu/app/moescope.mjs, the CLI bundled with every dependency but `webgpu`. The bundle reads shaders/
// from the working tree (two folders up), exactly as the sources do.
// With `--ref REV` it also bundles commit REV's CLI, with a copy of REV's shaders, into .gpu/ref/ (the
// CLI at .gpu/ref/bundle/app/moescope.mjs, whose two folders up are .gpu/ref/, where its shaders/ are), so
// that `tools/gpu_session.sh ab` can time REV against the working tree in one lease.
// Usage (here): node scripts/gpu-bundle.mjs [--ref REV]
// On the GPU host: source .gpu/setup.sh && "$NODE" .gpu/app/moescope.mjs bench
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { build } from 'vite';

const { values } = parseArgs({ options: { ref: { type: 'string' } } });

const makeBundle = '../shared/gpu/make-bundle.sh';
if (!existsSync('.gpu/node.xz')) {
  if (!existsSync(makeBundle)) throw new Error(`${makeBundle} not found: run from the project root with shared/ beside it`);
  execFileSync('bash', [makeBundle], { stdio: 'inherit' });
}

/** The CLI of the tree at `root`, bundled into `outDir`/moescope.mjs. */
async function bundleCli(root, outDir) {
  await build({
    root,
    logLevel: 'warn',
    configFile: false,
    publicDir: false, // the CLI needs none of public/ (the demo model alone is 35 MB)
    build: {
      ssr: join(root, 'src/node/cliEntry.ts'),
      outDir,
      emptyOutDir: false,
      target: 'node20',
      rollupOptions: { external: ['webgpu'], output: { entryFileNames: 'moescope.mjs' } },
    },
    ssr: { noExternal: true, external: ['webgpu'] },
  });
}

await bundleCli(process.cwd(), resolve('.gpu/app'));
console.log('wrote .gpu/app/moescope.mjs');

if (values.ref) {
  const commit = execFileSync('git', ['rev-parse', '--verify', `${values.ref}^{commit}`], { encoding: 'utf8' }).trim();
  const tree = mkdtempSync(join(tmpdir(), 'moescope-ref-'));
  execFileSync('git', ['worktree', 'add', '--detach', '--force', tree, commit], { stdio: 'ignore' });
  try {
    symlinkSync(resolve('node_modules'), join(tree, 'node_modules'));
    rmSync('.gpu/ref', { recursive: true, force: true });
    await bundleCli(tree, resolve('.gpu/ref/bundle/app'));
    cpSync(join(tree, 'shaders'), '.gpu/ref/shaders', { recursive: true });
    writeFileSync('.gpu/ref/COMMIT', `${commit}\n`);
    console.log(`wrote .gpu/ref/ (commit ${commit.slice(0, 12)}: bundle/app/moescope.mjs, shaders/)`);
  } finally {
    execFileSync('git', ['worktree', 'remove', '--force', tree]);
  }
}
