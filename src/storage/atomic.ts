// The one atomic replace every writer uses: write a temp file, fsync it, rename it over the
// target, fsync the directory. A crash at any point leaves either the old file (or none) or the
// whole new one, plus at most a `.tmp` orphan that the next writer removes.

import { dirname } from 'node:path';

import { nodeFiles, type FileLayer } from './files.js';

export const tempSuffix = '.tmp';

/** Writes `chunks` to `path` atomically through `files` (the real disk by default). */
export function replaceAtomically(path: string, chunks: readonly Uint8Array[], files: FileLayer = nodeFiles): void {
  const temp = path + tempSuffix;
  try {
    files.unlink(temp); // left by a writer that crashed halfway
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const handle = files.createNew(temp);
  try {
    files.write(handle, chunks, 0);
    files.fdatasyncSync(handle);
  } finally {
    files.close(handle);
  }
  files.rename(temp, path);
  files.fsyncDir(dirname(path));
}

/**
 * Makes a file written under `temp` (by a writer that streams, e.g. Parquet) durable and moves it
 * to `path`: fsync, rename, fsync the directory.
 */
export function publishAtomically(temp: string, path: string, files: FileLayer = nodeFiles): void {
  const handle = files.openExisting(temp);
  try {
    files.fdatasyncSync(handle);
  } finally {
    files.close(handle);
  }
  files.rename(temp, path);
  files.fsyncDir(dirname(path));
}
