// Checkpoints and compaction on a full disk: each failure leaves nothing behind (no `.tmp` file or
// directory), says so in one log line, is retried later by the background timer (not every
// second), and succeeds once there is room; meanwhile the log takes writes and reads are served.
// The disk is the real one, made full for the checkpoint and Parquet directories by
// test/support/full-disk-files.ts (test/system/disk-full.test.ts does it with a real tmpfs).
import { sep } from 'node:path';
import { describe, expect, it } from 'vitest';

import { openTunedEngine } from '../../src/admin.js';
import { tempDir } from '../support/engine.js';
import { FullDiskFiles, tmpLeftovers, until } from '../support/full-disk-files.js';


describe('background checkpoints and compaction on a full disk', () => {
  it('given checkpoints and compaction due while their directories are full, then each failure leaves no .tmp behind, logs one line per try, and writes and reads go on; once there is room both succeed by themselves', async () => {
    const dataDir = await tempDir();
    const disk = new FullDiskFiles((path) => path.includes(`${sep}checkpoints${sep}`) || path.includes(`${sep}parquet${sep}`));
    const warnings: string[] = [];
    // A checkpoint due at every poll (1 s) once events arrived; segments seal every 4 KiB.
    const db = await openTunedEngine({ dataDir, durability: 'fsync', files: disk, checkpointEveryMs: 1, checkpointEveryEvents: 0, segmentBytesMax: 4096, onWarning: (m) => warnings.push(m) });
    try {
      disk.full = true;
      let n = 0;
      const write = async (count: number) => {
        for (let b = 0; b < count; b++) await db.append(Array.from({ length: 20 }, () => ({ type: 'prime.node.created', payload: { id: `node:doc:${n++}`, type: 'doc', properties: { body: 'x'.repeat(100) } } })));
      };
      await write(10);
      const failed = (what: RegExp) => warnings.filter((w) => what.test(w)).length;
      const checkpointFailed = /checkpoint.* failed.*ENOSPC/;
      const compactionFailed = /compaction failed.*ENOSPC/;
      expect(await until(() => failed(checkpointFailed) >= 1 && failed(compactionFailed) >= 1, 5_000), warnings.join('\n')).toBe(true);
      expect(disk.refused.some((p) => p.includes(`${sep}checkpoints${sep}`))).toBe(true);
      expect(disk.refused.some((p) => p.includes(`${sep}parquet${sep}`))).toBe(true);
      expect(tmpLeftovers(dataDir)).toEqual([]);
      // One clear line each: what failed, that nothing is left, and when it is tried again.
      expect(warnings.join('\n')).toMatch(/^background checkpoint at seq \d+ failed: ENOSPC.*; its partial files were removed, the log still holds every event, and it is retried in 5 s$/m);
      expect(warnings.join('\n')).toMatch(/^compaction failed: ENOSPC.*; its partial file was removed, the segment stays in the WAL \(nothing is lost\), and it is retried in 5 s$/m);

      // While full: writes are taken and read back, health stays ok, and no try is repeated within a second or two.
      const seen = { checkpoint: failed(checkpointFailed), compaction: failed(compactionFailed) };
      await write(5);
      expect(db.getNode(`node:doc:${n - 1}`)).not.toBeNull();
      expect(db.health()).toEqual({ status: 'ok' });
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      expect(failed(checkpointFailed)).toBe(seen.checkpoint);
      expect(failed(compactionFailed)).toBe(seen.compaction);
      expect(db.stats().compaction.lastError).toMatch(/ENOSPC/);
      expect(tmpLeftovers(dataDir)).toEqual([]);

      // Room again: the timer retries both, and they succeed.
      disk.full = false;
      expect(await until(() => db.stats().checkpoint.written >= 1 && db.stats().compaction.parquetFiles >= 1, 12_000), warnings.join('\n')).toBe(true);
      expect(await until(() => db.stats().compaction.lastError === null, 5_000)).toBe(true);
      expect(tmpLeftovers(dataDir)).toEqual([]);
      expect(db.stats().totalNodes).toBe(n);
    } finally {
      await db.close();
    }
    // Everything acknowledged is there after a reopen, from the checkpoint, Parquet and the log.
    const reopened = await openTunedEngine({ dataDir, durability: 'fsync', onWarning: () => {}, checkpointEveryMs: 0, checkpointEveryEvents: 0, backgroundCompaction: false });
    expect(reopened.stats().totalNodes).toBe(300);
    await reopened.close();
  });
});
