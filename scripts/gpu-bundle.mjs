// Build what a GPU host without network needs to run the CLI (bench, trace, generate) on its real GPU:
// ../shared/gpu/make-bundle.sh packs Node, Dawn and the Vulkan loader into .gpu/; this adds
// .gpu/app/moescope.mjs, the CLI bundled with every dependency but `webgpu` (and `playwright-core`, packed
// beside it for `bench --browser`). The bundle reads shaders/ from the working tree (two folders up),
// exactly as the sources do. .gpu/app/bench-page/ is the bench page (bench.html) built for `bench --browser`,
// which also needs a Chromium there (tools/pack_chromium.sh).
// With `--ref REV` it also bundles commit REV's CLI, with a copy of REV's shaders, into .gpu/ref/ (the
// CLI at .gpu/ref/bundle/app/moescope.mjs, whose two folders up are .gpu/ref/, where its shaders/ are; its
// app page beside it), so that `tools/gpu_session.sh ab` and `app` can time REV against the working tree
// in one lease.
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

/**
 * Left out of the bundle: Dawn (native, in .gpu/node_modules), playwright-core (its own files; unpacked
 * there from .gpu/playwright-core.tar.xz by tools/gpu_session.sh) and Vite (the sources build the bench
 * page with it; the bundle finds it prebuilt).
 */
const EXTERNAL = ['webgpu', 'playwright-core', 'vite'];

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
      rollupOptions: { external: EXTERNAL, output: { entryFileNames: 'moescope.mjs' } },
    },
    ssr: { noExternal: true, external: EXTERNAL },
  });
}

/**
 * The page `html` of the tree at `root`, built into `outDir` without public/ and unminified, as
 * src/node/builtPage.ts builds it (a CPU profile of the page then names its functions).
 */
async function buildPage(root, html, outDir) {
  await build({ root, logLevel: 'warn', publicDir: false, build: { outDir, emptyOutDir: true, minify: false, rollupOptions: { input: join(root, html) } } });
}

await bundleCli(process.cwd(), resolve('.gpu/app'));
console.log('wrote .gpu/app/moescope.mjs');
await buildPage(process.cwd(), 'bench.html', resolve('.gpu/app/bench-page'));
console.log('wrote .gpu/app/bench-page/ (bench.html for bench --browser)');
await buildPage(process.cwd(), 'index.html', resolve('.gpu/app/app-page'));
console.log('wrote .gpu/app/app-page/ (the app without public/, for bench --app)');
execFileSync('tar', ['-cJf', '.gpu/playwright-core.tar.xz', '-C', 'node_modules', 'playwright-core']);
console.log('wrote .gpu/playwright-core.tar.xz');

if (values.ref) {
  const commit = execFileSync('git', ['rev-parse', '--verify', `${values.ref}^{commit}`], { encoding: 'utf8' }).trim();
  const tree = mkdtempSync(join(tmpdir(), 'moescope-ref-'));
  execFileSync('git', ['worktree', 'add', '--detach', '--force', tree, commit], { stdio: 'ignore' });
  try {
    symlinkSync(resolve('node_modules'), join(tree, 'node_modules'));
    rmSync('.gpu/ref', { recursive: true, force: true });
    await bundleCli(tree, resolve('.gpu/ref/bundle/app'));
    cpSync(join(tree, 'shaders'), '.gpu/ref/shaders', { recursive: true });
    // its app and bench pages beside its CLI, where that CLI's `bench --app` and `bench --browser` look
    // (tools/gpu_session.sh app and browser: an A/B)
    await buildPage(tree, 'index.html', resolve('.gpu/ref/bundle/app/app-page'));
    await buildPage(tree, 'bench.html', resolve('.gpu/ref/bundle/app/bench-page'));
    writeFileSync('.gpu/ref/COMMIT', `${commit}\n`);
    console.log(`wrote .gpu/ref/ (commit ${commit.slice(0, 12)}: bundle/app/moescope.mjs, app-page/ and bench-page/, shaders/)`);
  } finally {
    execFileSync('git', ['worktree', 'remove', '--force', tree]);
  }
}
