// The one atomic replace every writer uses: write a temp file, fsync it, rename it over the
// target, fsync the directory. A crash at any point leaves either the old file (or none) or the
// whole new one, plus at most a `.tmp` orphan that the next writer removes. A write that fails
// (a full disk) removes its temp file before it throws.

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
    try {
      files.write(handle, chunks, 0);
      files.fdatasyncSync(handle);
    } finally {
      files.close(handle);
    }
    files.rename(temp, path);
  } catch (e) {
    removeLeftover(temp, files); // a failed write (a full disk) leaves nothing behind
    throw e;
  }
  files.fsyncDir(dirname(path));
}

/** Removes `path` if it is there; a failure to is ignored (the next writer or open removes it). */
export function removeLeftover(path: string, files: FileLayer = nodeFiles): void {
  try {
    files.unlink(path);
  } catch {
    // absent (the common case), or the disk refuses even that: left to the next writer
  }
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
