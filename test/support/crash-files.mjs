// A FileLayer that kills its own process (SIGKILL: no handler, no flush, no finally runs — the
// closest a test gets to power loss) right before or after the first operation of a kind on a path
// that matches. Plain JavaScript so that a test's child process, which runs the compiled engine,
// can import it as it is.

/**
 * @typedef {'rename' | 'unlink' | 'fsyncDir' | 'fdatasyncSync'} CrashOp
 * @typedef {{ op: CrashOp, path: RegExp, when: 'before' | 'after' }} CrashPoint
 */

/** The steps of compacting one segment, in order, and where each ends on the file layer. */
export const compactionCrashPoints = {
  'temp-write': { op: 'fdatasyncSync', path: /\.parquet\.tmp$/, when: 'before' },
  fsync: { op: 'fdatasyncSync', path: /\.parquet\.tmp$/, when: 'after' },
  rename: { op: 'rename', path: /\.parquet$/, when: 'after' },
  'dir-fsync': { op: 'fsyncDir', path: /[\\/]parquet$/, when: 'after' },
  // After the read-back check the next step is the segment's deletion.
  verify: { op: 'unlink', path: /\.wal$/, when: 'before' },
  'segment-delete': { op: 'unlink', path: /\.wal$/, when: 'after' },
};

/**
 * @param {import('../../src/storage/files.js').FileLayer} inner
 * @param {CrashPoint} point
 * @returns {import('../../src/storage/files.js').FileLayer}
 */
export function crashingFiles(inner, point) {
  /** @type {Map<number, string>} */
  const pathOf = new Map();
  const kill = () => process.kill(process.pid, 'SIGKILL');
  /** @param {CrashOp} op @param {string} path @param {() => unknown} run */
  const step = (op, path, run) => {
    const hit = op === point.op && point.path.test(path);
    if (hit && point.when === 'before') kill();
    const result = run();
    if (hit && point.when === 'after') kill();
    return result;
  };
  return {
    ...inner,
    createNew: (path) => {
      const handle = inner.createNew(path);
      pathOf.set(handle, path);
      return handle;
    },
    openExisting: (path) => {
      const handle = inner.openExisting(path);
      pathOf.set(handle, path);
      return handle;
    },
    close: (handle) => {
      pathOf.delete(handle);
      inner.close(handle);
    },
    fdatasyncSync: (handle) => step('fdatasyncSync', pathOf.get(handle) ?? '', () => inner.fdatasyncSync(handle)),
    rename: (from, to) => step('rename', to, () => inner.rename(from, to)),
    unlink: (path) => step('unlink', path, () => inner.unlink(path)),
    fsyncDir: (dir) => step('fsyncDir', dir, () => inner.fsyncDir(dir)),
  };
}
