// The real disk (nodeFiles) with a switch that makes it full for some paths: while `full` is on, a
// write to a file whose path `fills` matches throws ENOSPC, as a full file system does (creating
// an empty file and removing one still work). The code under test runs unchanged over it; only the
// free space is simulated, so a test can fill and free the disk for checkpoints and compaction
// while the log beside them keeps working.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { nodeFiles, type FileHandle, type FileLayer } from '../../src/storage/files.js';

export class FullDiskFiles implements FileLayer {
  full = false;
  /** Writes refused while full, by path. */
  readonly refused: string[] = [];
  private readonly paths = new Map<FileHandle, string>();

  constructor(private readonly fills: (path: string) => boolean) {}

  private check(path: string): void {
    if (!this.full || !this.fills(path)) return;
    this.refused.push(path);
    const e = new Error(`ENOSPC: no space left on device, write '${path}'`) as NodeJS.ErrnoException;
    e.code = 'ENOSPC';
    throw e;
  }

  mkdirp = nodeFiles.mkdirp;
  list = nodeFiles.list;
  exists = nodeFiles.exists;
  createNew(path: string): FileHandle {
    const handle = nodeFiles.createNew(path);
    this.paths.set(handle, path);
    return handle;
  }
  openExisting(path: string): FileHandle {
    const handle = nodeFiles.openExisting(path);
    this.paths.set(handle, path);
    return handle;
  }
  write(handle: FileHandle, chunks: readonly Uint8Array[], position: number): void {
    this.check(this.paths.get(handle) ?? '');
    nodeFiles.write(handle, chunks, position);
  }

  async writeAsync(handle: FileHandle, chunks: readonly Uint8Array[], position: number): Promise<void> {
    this.check(this.paths.get(handle) ?? '');
    await nodeFiles.writeAsync(handle, chunks, position);
  }
  truncate = nodeFiles.truncate;
  fdatasync = nodeFiles.fdatasync;
  fdatasyncSync = nodeFiles.fdatasyncSync;
  close(handle: FileHandle): void {
    this.paths.delete(handle);
    nodeFiles.close(handle);
  }
  size = nodeFiles.size;
  readFile = nodeFiles.readFile;
  writeFileExclusive(path: string, data: Uint8Array): void {
    this.check(path);
    nodeFiles.writeFileExclusive(path, data);
  }
  rename = nodeFiles.rename;
  unlink = nodeFiles.unlink;
  removeTree = nodeFiles.removeTree;
  fsyncDir = nodeFiles.fsyncDir;
}

/** Every path under `dir` whose name ends in .tmp, at any depth: what a failed checkpoint or compaction must not leave. */
export function tmpLeftovers(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) if (entry.name.endsWith('.tmp')) out.push(join(entry.parentPath, entry.name));
  return out;
}

/** Polls `condition` every `stepMs` for up to `ms`; its last answer. */
export async function until(condition: () => boolean, ms: number, stepMs = 50): Promise<boolean> {
  const by = Date.now() + ms;
  while (!condition() && Date.now() < by) await new Promise((resolve) => setTimeout(resolve, stepMs));
  return condition();
}
