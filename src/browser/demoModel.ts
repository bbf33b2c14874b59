// The demo model shipped with the page (public/models/, see its README): fetched file by file with progress,
// then opened exactly like a dropped folder.

import type { DroppedFile } from '../worker/protocol.ts';

export const DEMO_MODEL = {
  name: 'moescope-demo-16x',
  files: ['config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json', 'model.safetensors'],
  /** One prompt per domain it was trained on: compare their heatmaps. */
  examples: {
    code: 'def read_config(path):\n    with open(path) as f:',
    prose: 'The package manager keeps track of which files belong to',
    dictionary: 'Lantern \\Lan"tern\\, n. [F. lanterne, L. lanterna.]\n   1. ',
    german: 'Der Mensch ist',
    tables: '10de  NVIDIA Corporation\n\t',
  } as Record<string, string>,
};

export class DownloadError extends Error {
  override name = 'DownloadError' as const;
  constructor(url: string, what: string) {
    super(`${url}: ${what}. The demo model ships with the page under public/models/; rebuild or serve the app with it.`);
  }
}

export interface DownloadProgress {
  bytesDone: number;
  bytesTotal: number;
  files: Record<string, { done: number; total: number }>;
}

/** Fetch `names` under `baseUrl` as Files, reporting bytes as they arrive; sizes come from HEAD requests. */
export async function downloadFiles(
  baseUrl: string,
  names: readonly string[],
  onProgress: (p: DownloadProgress) => void,
  signal: AbortSignal,
): Promise<DroppedFile[]> {
  const sizes = await Promise.all(
    names.map(async (name) => {
      const response = await fetch(baseUrl + name, { method: 'HEAD', signal });
      if (!response.ok) throw new DownloadError(baseUrl + name, `HTTP ${response.status}`);
      return Number(response.headers.get('content-length') ?? 0);
    }),
  );
  const progress: DownloadProgress = {
    bytesDone: 0,
    bytesTotal: sizes.reduce((a, b) => a + b, 0),
    files: Object.fromEntries(names.map((n, i) => [n, { done: 0, total: sizes[i]! }])),
  };
  const files: DroppedFile[] = [];
  for (const name of names) {
    const response = await fetch(baseUrl + name, { signal });
    if (!response.ok || !response.body) throw new DownloadError(baseUrl + name, `HTTP ${response.status}`);
    const chunks: Uint8Array[] = [];
    const reader = response.body.getReader();
    for (let r = await reader.read(); !r.done; r = await reader.read()) {
      chunks.push(r.value);
      progress.files[name]!.done += r.value.byteLength;
      progress.bytesDone += r.value.byteLength;
      onProgress(progress);
    }
    files.push({ path: `${DEMO_MODEL.name}/${name}`, file: new File(chunks as BlobPart[], name) });
  }
  return files;
}
