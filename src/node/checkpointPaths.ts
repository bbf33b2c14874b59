// CLI arguments → file paths and ByteSources: a checkpoint directory (its files, not recursing) or files named one by one.

import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ByteSource } from '../checkpoint/byteSource.ts';
import { MissingFileError } from '../checkpoint/errors.ts';
import { fileSource } from './fileSource.ts';

/** The files a checkpoint is given as: each directory's files (sorted, not recursing), or each file named. */
export async function checkpointFilePaths(paths: readonly string[]): Promise<string[]> {
  const files: string[] = [];
  for (const path of paths) {
    const info = await stat(path).catch(() => null);
    if (!info) throw new MissingFileError(path, 'no such file or directory');
    if (info.isDirectory()) {
      for (const name of (await readdir(path)).sort()) {
        const full = join(path, name);
        if ((await stat(full)).isFile()) files.push(full);
      }
    } else {
      files.push(path);
    }
  }
  return files;
}

export async function checkpointSources(paths: readonly string[]): Promise<ByteSource[]> {
  return Promise.all((await checkpointFilePaths(paths)).map((f) => fileSource(f)));
}
