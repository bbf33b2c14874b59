// A drop's DataTransfer or a file input's FileList → files with their paths, walking dropped folders.

import type { DroppedFile } from '../worker/protocol.ts';

function readEntries(reader: FileSystemDirectoryReader): Promise<FileSystemEntry[]> {
  return new Promise((resolve, reject) => reader.readEntries(resolve, reject));
}

async function walk(entry: FileSystemEntry, out: DroppedFile[]): Promise<void> {
  if (entry.isFile) {
    const file = await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject));
    out.push({ path: entry.fullPath.replace(/^\//, ''), file });
  } else if (entry.isDirectory) {
    const reader = (entry as FileSystemDirectoryEntry).createReader();
    // readEntries returns at most ~100 entries per call: read until it returns none
    for (let batch = await readEntries(reader); batch.length > 0; batch = await readEntries(reader)) {
      for (const child of batch) await walk(child, out);
    }
  }
}

/** Call synchronously inside the drop handler: DataTransfer items are only readable during the event. */
export function filesFromDrop(data: DataTransfer): Promise<DroppedFile[]> {
  const entries = [...data.items].map((item) => item.webkitGetAsEntry?.() ?? null);
  const plain = [...data.files].map((file) => ({ path: file.webkitRelativePath || file.name, file }));
  if (entries.length === 0 || entries.some((e) => e === null)) return Promise.resolve(plain);
  return (async () => {
    const out: DroppedFile[] = [];
    for (const entry of entries) if (entry) await walk(entry, out);
    return out;
  })();
}

export function filesFromInput(list: FileList | null): DroppedFile[] {
  return [...(list ?? [])].map((file) => ({ path: file.webkitRelativePath || file.name, file }));
}
