// Random access to a file's bytes without holding the file: a Blob/File in the browser (Blob.slice), a file
// handle in Node. Checkpoint files can be tens of GB; readers ask only for the ranges they need.

export interface ByteSource {
  /** The file's name as the user gave it (for messages): "model-00001-of-00002.safetensors". */
  readonly name: string;
  /** Size in bytes. */
  readonly size: number;
  /** Bytes [offset, offset + length); fails if the range is outside the file. */
  read(offset: number, length: number): Promise<Uint8Array>;
  /** Bytes [offset, offset + target.length) straight into `target` (no copy), where the source can. */
  readInto?(offset: number, target: Uint8Array): Promise<void>;
  /** Release the file (Node file handles); absent where there is nothing to release. */
  close?(): Promise<void>;
}

export class ByteRangeError extends Error {
  constructor(source: string, offset: number, length: number, size: number) {
    super(`${source}: cannot read bytes ${offset}..${offset + length} of a ${size}-byte file`);
    this.name = 'ByteRangeError';
  }
}

export function checkRange(source: ByteSource, offset: number, length: number): void {
  const ok = Number.isSafeInteger(offset) && Number.isSafeInteger(length) && offset >= 0 && length >= 0;
  if (!ok || offset + length > source.size) throw new ByteRangeError(source.name, offset, length, source.size);
}

/** A Blob (a dropped File included) as a ByteSource. */
export function blobSource(blob: Blob, name: string): ByteSource {
  return {
    name,
    size: blob.size,
    async read(offset, length) {
      checkRange(this, offset, length);
      return new Uint8Array(await blob.slice(offset, offset + length).arrayBuffer());
    },
  };
}

/** Bytes already in memory (tests, small JSON files). */
export function memorySource(bytes: Uint8Array, name: string): ByteSource {
  return {
    name,
    size: bytes.byteLength,
    async read(offset, length) {
      checkRange(this, offset, length);
      return bytes.slice(offset, offset + length);
    },
  };
}

export async function readText(source: ByteSource): Promise<string> {
  return new TextDecoder('utf-8').decode(await source.read(0, source.size));
}
