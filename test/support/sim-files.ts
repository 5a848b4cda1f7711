// An in-memory disk for the WAL's FileLayer that remembers what was fsynced.
// `powerCut` returns the disk a machine would find after losing power: every file
// the directory knew durably, holding its fsynced bytes plus (maybe) a damaged part
// of what was written after the last fsync. Not a mock of the WAL: the real WAL
// code runs on it; only the disk is simulated.
import type { FileHandle, FileLayer } from '../../src/storage/files.js';

interface SimFile {
  data: Uint8Array;
  length: number;
  /** The content the last completed fdatasync made durable. */
  durable: Uint8Array;
  /** Bumped by every change; an fsync that completes late must not replace a newer durable state with its older snapshot. */
  version: number;
  durableVersion: number;
}

export type CutVariant = 'drop' | 'zero' | 'garble';

/** What a power cut did to the unsynced tail of one file (for tests that want to reason about it). */
export interface CutDamage {
  path: string;
  /** Bytes of the file before the cut (durable + unsynced, as written). */
  written: Uint8Array;
  /** Bytes after the cut. */
  after: Uint8Array;
}

function errno(code: string, message: string): NodeJS.ErrnoException {
  const e = new Error(`${code}: ${message}`) as NodeJS.ErrnoException;
  e.code = code;
  return e;
}

export class SimFiles implements FileLayer {
  private readonly files = new Map<string, SimFile>();
  /** Directory entries as the last fsyncDir left them: a creation or rename not yet fsynced is lost at a cut. */
  private durableNames = new Map<string, SimFile>();
  private readonly dirs = new Set<string>();
  /** Directories as the last fsyncDir left them: a mkdir or a directory rename not yet fsynced is lost at a cut. */
  private durableDirs = new Set<string>();
  private readonly handles = new Map<FileHandle, SimFile>();
  private nextHandle = 3;
  /** After a power cut the old machine is gone: its pending fsyncs never complete. */
  private dead = false;
  fsyncCalls = 0;

  private file(path: string): SimFile {
    const file = this.files.get(path);
    if (file === undefined) throw errno('ENOENT', path);
    return file;
  }

  private handle(handle: FileHandle): SimFile {
    const file = this.handles.get(handle);
    if (file === undefined) throw errno('EBADF', String(handle));
    return file;
  }

  private open(file: SimFile): FileHandle {
    const handle = this.nextHandle++;
    this.handles.set(handle, file);
    return handle;
  }

  mkdirp(dir: string): void {
    for (let at = dir; at !== '' && at !== '/' && at !== '.'; at = at.slice(0, Math.max(at.lastIndexOf('/'), 0))) this.dirs.add(at);
  }

  list(dir: string): string[] {
    if (!this.dirs.has(dir)) throw errno('ENOENT', dir);
    const prefix = `${dir}/`;
    const names = [...this.files.keys(), ...this.dirs].filter((p) => p.startsWith(prefix) && !p.slice(prefix.length).includes('/')).map((p) => p.slice(prefix.length));
    return [...new Set(names)];
  }

  exists(path: string): boolean {
    return this.files.has(path) || this.dirs.has(path);
  }

  removeTree(path: string): void {
    const prefix = `${path}/`;
    this.files.delete(path);
    for (const p of [...this.files.keys()]) if (p.startsWith(prefix)) this.files.delete(p);
    for (const d of [...this.dirs]) if (d === path || d.startsWith(prefix)) this.dirs.delete(d);
  }

  createNew(path: string): FileHandle {
    if (this.files.has(path)) throw errno('EEXIST', path);
    const file: SimFile = { data: new Uint8Array(256), length: 0, durable: new Uint8Array(0), version: 0, durableVersion: 0 };
    this.files.set(path, file);
    return this.open(file);
  }

  openExisting(path: string): FileHandle {
    return this.open(this.file(path));
  }

  /** The same write, done at once: the simulated disk has no thread pool. */
  writeAsync(handle: FileHandle, chunks: readonly Uint8Array[], position: number): Promise<void> {
    try {
      this.write(handle, chunks, position);
      return Promise.resolve();
    } catch (e) {
      return Promise.reject(e);
    }
  }

  write(handle: FileHandle, chunks: readonly Uint8Array[], position: number): void {
    const file = this.handle(handle);
    let at = position;
    for (const chunk of chunks) {
      const end = at + chunk.length;
      if (end > file.data.length) {
        const grown = new Uint8Array(Math.max(end, file.data.length * 2));
        grown.set(file.data.subarray(0, file.length));
        file.data = grown;
      }
      if (at > file.length) file.data.fill(0, file.length, at);
      file.data.set(chunk, at);
      file.length = Math.max(file.length, end);
      file.version++;
      at = end;
    }
  }

  truncate(handle: FileHandle, bytes: number): void {
    const file = this.handle(handle);
    if (bytes > file.length) file.data.fill(0, file.length, Math.min(bytes, file.data.length));
    file.length = bytes;
    file.version++;
  }

  /** Completes after a macrotask, so appends can pile up behind it (group commit). Makes durable what was written before the call. */
  fdatasync(handle: FileHandle): Promise<void> {
    const file = this.handle(handle);
    const snapshot = file.data.slice(0, file.length);
    const version = file.version;
    this.fsyncCalls++;
    return new Promise((resolve) => {
      setImmediate(() => {
        if (this.dead) return; // the machine lost power: this fsync never returns
        if (version > file.durableVersion) {
          file.durable = snapshot;
          file.durableVersion = version;
        }
        resolve();
      });
    });
  }

  fdatasyncSync(handle: FileHandle): void {
    const file = this.handle(handle);
    this.fsyncCalls++;
    file.durable = file.data.slice(0, file.length);
    file.durableVersion = file.version;
  }

  close(handle: FileHandle): void {
    this.handle(handle);
    this.handles.delete(handle);
  }

  size(path: string): number {
    return this.file(path).length;
  }

  readFile(path: string): Uint8Array {
    const file = this.file(path);
    return file.data.slice(0, file.length);
  }

  writeFileExclusive(path: string, data: Uint8Array): void {
    const handle = this.createNew(path);
    this.write(handle, [data], 0);
    this.fdatasyncSync(handle);
    this.close(handle);
  }

  rename(from: string, to: string): void {
    if (this.dirs.has(from)) return this.renameDir(from, to);
    const file = this.file(from);
    this.files.delete(from);
    this.files.set(to, file);
  }

  private renameDir(from: string, to: string): void {
    if (this.dirs.has(to)) throw errno('ENOTEMPTY', to);
    const prefix = `${from}/`;
    for (const [p, file] of [...this.files]) {
      if (!p.startsWith(prefix)) continue;
      this.files.delete(p);
      this.files.set(to + p.slice(from.length), file);
    }
    for (const d of [...this.dirs]) {
      if (d !== from && !d.startsWith(prefix)) continue;
      this.dirs.delete(d);
      this.dirs.add(to + d.slice(from.length));
    }
  }

  unlink(path: string): void {
    this.file(path);
    this.files.delete(path);
  }

  fsyncDir(_dir: string): void {
    this.durableNames = new Map(this.files);
    this.durableDirs = new Set(this.dirs);
  }

  /** Replaces one file's bytes outright (for corruption tests); the new content counts as durable. */
  setFile(path: string, data: Uint8Array): void {
    const file = this.files.get(path) ?? { data: new Uint8Array(0), length: 0, durable: new Uint8Array(0), version: 0, durableVersion: 0 };
    // Copies: Buffer#slice would share memory with the caller's bytes.
    file.data = new Uint8Array(data);
    file.length = data.length;
    file.durable = new Uint8Array(data);
    file.version++;
    file.durableVersion = file.version;
    this.files.set(path, file);
    this.durableNames.set(path, file);
  }

  /** A copy of the disk as it is now, everything durable (for corruption tests that reopen many variants). */
  clone(): SimFiles {
    const copy = new SimFiles();
    for (const dir of this.dirs) copy.mkdirp(dir);
    copy.durableDirs = new Set(copy.dirs);
    for (const [path, file] of this.files) copy.setFile(path, file.data.slice(0, file.length));
    return copy;
  }

  /**
   * Power fails now. The returned disk holds each durably named file with its fsynced
   * bytes, then a random prefix of its unsynced bytes, whose last ≤512 bytes are
   * zeroed or garbled per `variant` (never touching fsynced bytes). Files named in
   * `forget` (the writer's LOCK: its process died with the machine) are left out.
   */
  powerCut(random: () => number, variant: CutVariant, forget: readonly string[] = []): { disk: SimFiles; damage: CutDamage[] } {
    this.dead = true;
    const disk = new SimFiles();
    const damage: CutDamage[] = [];
    for (const dir of this.durableDirs) disk.mkdirp(dir);
    for (const [path, file] of this.durableNames) {
      if (forget.includes(path)) continue;
      const written = file.data.slice(0, file.length);
      const after = afterCut(written, file.durable, random, variant);
      disk.setFile(path, after);
      disk.mkdirp(path.slice(0, path.lastIndexOf('/')));
      if (after.length !== file.durable.length || written.length !== file.durable.length) damage.push({ path, written, after });
    }
    disk.durableDirs = new Set(disk.dirs);
    return { disk, damage };
  }
}

const tailDamageBytesMax = 512;

function afterCut(written: Uint8Array, durable: Uint8Array, random: () => number, variant: CutVariant): Uint8Array {
  const appendOnly = written.length >= durable.length && durable.every((byte, i) => written[i] === byte);
  // An unsynced truncation (or rewrite) is simply lost: the fsynced content comes back.
  if (!appendOnly) return durable.slice();
  const unsynced = written.length - durable.length;
  const kept = Math.floor(random() * (unsynced + 1));
  const after = written.slice(0, durable.length + kept);
  if (variant === 'drop' || kept === 0) return after;
  const damaged = 1 + Math.floor(random() * Math.min(tailDamageBytesMax, kept));
  for (let i = after.length - damaged; i < after.length; i++) after[i] = variant === 'zero' ? 0 : Math.floor(random() * 256);
  return after;
}

export { seededRandom } from '../../bench/support/random.js';
