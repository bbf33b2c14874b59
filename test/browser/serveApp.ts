// Browser-test global setup: build the app exactly as users get it, serve dist/ on 127.0.0.1, hand the
// address to the tests, stop the server afterwards.

import type { TestProject } from 'vitest/node';
import { build, preview } from 'vite';

declare module 'vitest' {
  export interface ProvidedContext {
    appUrl: string;
  }
}

export default async function serveApp(project: TestProject): Promise<() => Promise<void>> {
  await build({ logLevel: 'warn' });
  const server = await preview({ preview: { host: '127.0.0.1', port: 0, strictPort: false }, logLevel: 'warn' });
  const url = server.resolvedUrls?.local[0];
  if (!url) throw new Error('vite preview did not report a local address');
  project.provide('appUrl', url);
  return async () => {
    await server.close();
  };
}
