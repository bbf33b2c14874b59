import { defineConfig } from 'vite';

// The app: index.html → src/app/main.tsx; beside it the bench page, bench.html → src/bench/benchPage.ts
// (`npm run bench -- --browser`). Shaders reach the bundle through import.meta.glob (?raw), so the
// .wgsl files in shaders/ stay the single source the browser and Node both read.
export default defineConfig({
  server: { host: '127.0.0.1', port: 5173, strictPort: true },
  preview: { host: '127.0.0.1' },
  build: { target: 'es2022', outDir: 'dist', emptyOutDir: true, rollupOptions: { input: { app: 'index.html', bench: 'bench.html' } } },
  worker: { format: 'es' },
});
