// The file operations mnemo's writers need, behind a small interface so the power-loss
// tests can run the real code over a simulated disk that forgets whatever was
// not fsynced. Everything is synchronous except fdatasync: appends must reach the
// OS before `append` returns (apply-before-fsync), and only the fsync is slow
// enough to be worth taking off the event loop.
import * as fs from 'node:fs';
import * as path from 'node:path';

import { mnemoError } from '../kernel/errors.js';

export type FileHandle = number;

export interface FileLayer {
  mkdirp(dir: string): void;
  /** Names (not paths) in `dir`: files and subdirectories. Throws (code ENOENT) if `dir` does not exist. */
  list(dir: string): string[];
  /** Whether a file or directory exists at `path`. */
  exists(path: string): boolean;
  /** Creates a new empty file for reading and writing; fails (code EEXIST) if it exists. */
  createNew(path: string): FileHandle;
  /** Opens an existing file for reading and positional writing, keeping its content. */
  openExisting(path: string): FileHandle;
  /** Writes every byte of `chunks`, in order, at `position`, or throws. */
  write(handle: FileHandle, chunks: readonly Uint8Array[], position: number): void;
  /** As `write`, off the event loop (the thread pool): for big files nothing waits on, a checkpoint's parts. The chunks must not change until it resolves. */
  writeAsync(handle: FileHandle, chunks: readonly Uint8Array[], position: number): Promise<void>;
  truncate(handle: FileHandle, bytes: number): void;
  fdatasync(handle: FileHandle): Promise<void>;
  fdatasyncSync(handle: FileHandle): void;
  close(handle: FileHandle): void;
  size(path: string): number;
  readFile(path: string): Uint8Array;
  /** Creates `path` holding `data`, failing (code EEXIST) if it exists. Used for the LOCK file. */
  writeFileExclusive(path: string, data: Uint8Array): void;
  /** Renames a file, or a directory with everything in it. */
  rename(from: string, to: string): void;
  unlink(path: string): void;
  /** Removes a file or a directory with everything in it; nothing if there is none. */
  removeTree(path: string): void;
  /** Makes creations, renames and removals in `dir` durable. */
  fsyncDir(dir: string): void;
}

/** What is left of `chunks` after the first `written` bytes of them. */
function unwritten(chunks: readonly Uint8Array[], written: number): Uint8Array[] {
  const rest: Uint8Array[] = [];
  for (const chunk of chunks) {
    if (written >= chunk.length) {
      written -= chunk.length;
      continue;
    }
    rest.push(written > 0 ? chunk.subarray(written) : chunk);
    written = 0;
  }
  return rest;
}

function writeAll(handle: FileHandle, chunks: readonly Uint8Array[], position: number): void {
  let pending = chunks.filter((chunk) => chunk.length > 0);
  let at = position;
  // writev may write fewer bytes than asked (rare on regular files, but allowed): loop on the rest.
  while (pending.length > 0) {
    const written = fs.writevSync(handle, pending, at);
    at += written;
    pending = unwritten(pending, written);
  }
}

async function writeAllAsync(handle: FileHandle, chunks: readonly Uint8Array[], position: number): Promise<void> {
  let pending = chunks.filter((chunk) => chunk.length > 0);
  let at = position;
  while (pending.length > 0) {
    const batch = pending;
    const written = await new Promise<number>((resolve, reject) => fs.writev(handle, batch, at, (e, bytes) => (e ? reject(e) : resolve(bytes))));
    at += written;
    pending = unwritten(pending, written);
  }
}

/** The real disk, through node:fs. */
export const nodeFiles: FileLayer = {
  mkdirp: (dir) => void fs.mkdirSync(dir, { recursive: true }),
  list: (dir) => fs.readdirSync(dir),
  exists: (path) => fs.existsSync(path),
  createNew: (path) => fs.openSync(path, 'wx+'),
  openExisting: (path) => fs.openSync(path, 'r+'),
  write: writeAll,
  writeAsync: writeAllAsync,
  truncate: (handle, bytes) => fs.ftruncateSync(handle, bytes),
  fdatasync: (handle) =>
    new Promise((resolve, reject) => fs.fdatasync(handle, (e) => (e ? reject(e) : resolve()))),
  fdatasyncSync: (handle) => fs.fdatasyncSync(handle),
  close: (handle) => fs.closeSync(handle),
  size: (path) => fs.statSync(path).size,
  readFile: (path) => fs.readFileSync(path),
  writeFileExclusive: (path, data) => {
    const handle = fs.openSync(path, 'wx');
    try {
      writeAll(handle, [data], 0);
      fs.fsyncSync(handle);
    } finally {
      fs.closeSync(handle);
    }
  },
  rename: (from, to) => fs.renameSync(from, to),
  unlink: (path) => fs.unlinkSync(path),
  removeTree: (path) => fs.rmSync(path, { recursive: true, force: true }),
  fsyncDir: (dir) => {
    const handle = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(handle);
    } finally {
      fs.closeSync(handle);
    }
  },
};

/**
 * Creates the data dir (and its parents) if needed. A path that exists and is not a directory is a
 * clear error, not "EEXIST: mkdir".
 */
export function ensureDataDir(dir: string): void {
  // The nearest existing ancestor (or the dir itself) must be a directory.
  for (let at = path.resolve(dir); ; at = path.dirname(at)) {
    if (fs.existsSync(at)) {
      if (!fs.statSync(at).isDirectory()) {
        throw mnemoError('VALIDATION_FAILED', { field: 'dataDir', reason: `${at} exists and is not a directory; give a directory (or a path that does not exist yet)` });
      }
      break;
    }
    if (path.dirname(at) === at) break;
  }
  fs.mkdirSync(dir, { recursive: true });
}

/** Renames a damaged file or directory to `<target>.damaged-<ms>` (kept for a person to look at), durably; returns the new path, or the error. */
export function setAside(target: string, files: FileLayer = nodeFiles): string | Error {
  const movedTo = `${target}.damaged-${Date.now()}`;
  try {
    files.rename(target, movedTo);
    files.fsyncDir(path.dirname(movedTo));
    return movedTo;
  } catch (e) {
    return e as Error;
  }
}
