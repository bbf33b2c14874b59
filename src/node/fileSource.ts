// A file on disk as a ByteSource: positioned reads through one file handle, never the whole file.

import { open, stat, type FileHandle } from 'node:fs/promises';
import { basename } from 'node:path';
import { checkRange, type ByteSource } from '../checkpoint/byteSource.ts';

/** Node reads at most this many bytes per call (2 GiB − 1); larger ranges are read in pieces. */
const MAX_READ = 0x7fff_ffff;

export async function fileSource(path: string): Promise<ByteSource> {
  const { size } = await stat(path);
  let handle: Promise<FileHandle> | undefined;
  const source: ByteSource = {
    name: basename(path),
    size,
    async read(offset, length) {
      const out = new Uint8Array(length);
      await source.readInto!(offset, out);
      return out;
    },
    async readInto(offset, target) {
      checkRange(source, offset, target.length);
      handle ??= open(path, 'r');
      const fh = await handle;
      for (let done = 0; done < target.length; ) {
        const { bytesRead } = await fh.read(target, done, Math.min(MAX_READ, target.length - done), offset + done);
        if (bytesRead === 0) throw new Error(`${path}: file shrank while reading (got ${done} of ${target.length} bytes at ${offset})`);
        done += bytesRead;
      }
    },
    async close() {
      const fh = handle;
      handle = undefined;
      await (await fh)?.close();
    },
  };
  return source;
}
