// One writer per data dir: `<dir>/LOCK`, created with O_EXCL, holds the writer's pid.
// A lock whose pid is dead (kill -9 leaves it behind) is taken over.
import { join } from 'node:path';
import { mnemoError } from '../src/kernel/errors.js';
import type { FileLayer } from '../src/storage/files.js';

export const lockFileName = 'LOCK';
/** Taking over a stale lock races with another process doing the same; a few rounds settle it. */
const lockAttemptsMax = 3;

export interface WalLock {
  release(): void;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: the process exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/** The pid in the LOCK file; null when it has none; 'gone' when the file vanished meanwhile. */
function readHolder(files: FileLayer, path: string): number | null | 'gone' {
  try {
    const pid = Number(Buffer.from(files.readFile(path)).toString('utf8').trim());
    return Number.isSafeInteger(pid) && pid > 0 ? pid : null;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 'gone';
    throw e;
  }
}

export function acquireLock(files: FileLayer, dir: string): WalLock {
  const path = join(dir, lockFileName);
  for (let attempt = 0; attempt < lockAttemptsMax; attempt++) {
    try {
      files.writeFileExclusive(path, Buffer.from(`${process.pid}\n`));
      return { release: () => files.unlink(path) };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const holder = readHolder(files, path);
    if (holder === 'gone') continue;
    // A LOCK without a readable pid is one being written right now, or left half-written
    // by a crash; treat it as held, the user can remove it after checking.
    if (holder === null || isAlive(holder)) throw mnemoError('WAL_LOCKED', holder === null ? { dir } : { dir, pid: holder });
    files.unlink(path); // stale: its writer is gone
  }
  throw mnemoError('WAL_LOCKED', { dir });
}
