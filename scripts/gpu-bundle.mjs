// Build what a GPU host without network needs to run the CLI (bench, trace, generate) on its real GPU:
// ../shared/gpu/make-bundle.sh packs Node, Dawn and the Vulkan loader into .gpu/; this adds
// .gpu/app/moescope.mjs, the CLI bundled with every dependency but `webgpu`. The bundle reads shaders/
// from the working tree (two folders up), exactly as the sources do.
// Usage (here): node scripts/gpu-bundle.mjs   On the GPU host: source .gpu/setup.sh && "$NODE" .gpu/app/moescope.mjs bench
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { build } from 'vite';

const makeBundle = '../shared/gpu/make-bundle.sh';
if (!existsSync('.gpu/node.xz')) {
  if (!existsSync(makeBundle)) throw new Error(`${makeBundle} not found: run from the project root with shared/ beside it`);
  execFileSync('bash', [makeBundle], { stdio: 'inherit' });
}
await build({
  logLevel: 'warn',
  configFile: false,
  publicDir: false, // the CLI needs none of public/ (the demo model alone is 35 MB)
  build: {
    ssr: 'src/node/cliEntry.ts',
    outDir: '.gpu/app',
    emptyOutDir: false,
    target: 'node20',
    rollupOptions: { external: ['webgpu'], output: { entryFileNames: 'moescope.mjs' } },
  },
  ssr: { noExternal: true, external: ['webgpu'] },
});
console.log('wrote .gpu/app/moescope.mjs');
