// A full disk, for real: the data dir is a small tmpfs (needs root). A batch whose WAL write fails
// with ENOSPC must change nothing a reader can see, every later write is refused with 507, and a
// reopen finds exactly the acknowledged batches. A checkpoint or compaction that fails for want of
// room leaves nothing behind and succeeds on a later try once there is room.

import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

import { openTunedEngine } from '../../src/admin.js';
import { isMnemoError } from '../../src/index.js';
import { tmpLeftovers, until } from '../support/full-disk-files.js';

const mounts: string[] = [];
afterEach(() => {
  for (const dir of mounts.splice(0)) {
    execFileSync('umount', [dir]);
    rmSync(dir, { recursive: true, force: true });
  }
});

function mountOf(path: string): string {
  return mounts.find((dir) => path.startsWith(dir))!;
}

function smallDisk(bytes: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'mnemo-full-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${bytes}`, 'tmpfs', dir]);
  mounts.push(dir);
  return dir;
}

const quiet = { onWarning: () => {}, checkpointEveryEvents: 0, checkpointEveryMs: 0, backgroundCompaction: false } as const;
/** Bounded: a 1 MiB disk fills long before this many batches of ~25 KiB. */
const batchesMax = 200;

describe('a full disk', () => {
  it('given a 1 MiB tmpfs, when batches are appended until the disk is full, then the failed batch is invisible, later writes get 507 while health says degraded, writes resume by themselves once space returns, and a reopen holds exactly the acknowledged batches', async () => {
    const dataDir = join(smallDisk(1024 * 1024), 'data');
    // Background work on (the timer probes the disk), checkpoints off (they would need room too).
    const db = await openTunedEngine({ dataDir, durability: 'fsync', onWarning: () => {}, checkpointEveryEvents: 0, checkpointEveryMs: 0, backgroundCompaction: false });
    const acknowledged: string[] = [];
    let failedIds: string[] = [];
    let failure: unknown;
    for (let b = 0; b < batchesMax && failure === undefined; b++) {
      const ids = Array.from({ length: 50 }, (_, i) => `node:doc:${b}-${i}`);
      const batch = ids.map((id) => ({ type: 'prime.node.created', payload: { id, type: 'doc', properties: { body: 'x'.repeat(500) } } }));
      try {
        await db.append(batch);
        acknowledged.push(...ids);
      } catch (e) {
        failure = e;
        failedIds = ids;
      }
    }
    expect(isMnemoError(failure, 'DISK_FULL'), String(failure)).toBe(true);
    expect((failure as { status: number }).status).toBe(507);
    // Nothing of the failed batch is visible; the counts agree with the log.
    for (const id of failedIds) expect(db.getNode(id)).toBeNull();
    expect(db.stats().totalNodes).toBe(acknowledged.length);
    expect(db.stats().lastSeq).toBe(acknowledged.length);
    // Writes stay refused (never a retried fsync or a half-known log).
    const later = await db.addNode({ type: 'doc', properties: {} }).catch((e: unknown) => e);
    expect(isMnemoError(later, 'DISK_FULL')).toBe(true);
    expect(db.getNode(acknowledged[0]!)).not.toBeNull();
    expect(db.health().status).toBe('degraded');

    // Space comes back (the tmpfs grows): writes resume without a restart, within a few probes.
    execFileSync('mount', ['-o', 'remount,size=4m', mountOf(dataDir)]);
    const resumedBy = Date.now() + 5_000;
    while (db.health().status !== 'ok' && Date.now() < resumedBy) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(db.health()).toEqual({ status: 'ok' });
    const { nodeId } = await db.addNode({ type: 'doc', id: 'node:doc:after', properties: { body: 'after' } });
    acknowledged.push(nodeId);
    expect(db.stats().totalNodes).toBe(acknowledged.length);
    await db.close();

    // Reopen a copy on a disk with room: exactly the acknowledged nodes.
    const copy = mkdtempSync(join(tmpdir(), 'mnemo-full-copy-'));
    try {
      cpSync(dataDir, join(copy, 'data'), { recursive: true });
      const reopened = await openTunedEngine({ dataDir: join(copy, 'data'), durability: 'fsync', ...quiet });
      expect(reopened.stats().totalNodes).toBe(acknowledged.length);
      expect(reopened.getNode('node:doc:after')).not.toBeNull();
      expect(reopened.getNode(acknowledged[acknowledged.length - 1]!)).not.toBeNull();
      for (const id of failedIds) expect(reopened.getNode(id)).toBeNull();
      await reopened.close();
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });
});


describe('checkpoints and compaction on a full disk', () => {
  it('given a data dir on a 4 MiB tmpfs filled to its last pages, when a checkpoint and a compaction are due, then both fail leaving no .tmp, reads and small writes go on, and once space is freed both succeed by themselves', async () => {
    const disk = smallDisk(4 * 1024 * 1024);
    const dataDir = join(disk, 'data');
    // Sealed segments waiting for compaction (random bodies: Parquet cannot squeeze them into a page).
    const first = await openTunedEngine({ dataDir, durability: 'fsync', ...quiet, segmentBytesMax: 16 * 1024 });
    for (let b = 0; b < 20; b++) {
      await first.append(Array.from({ length: 20 }, (_, i) => ({ type: 'prime.node.created', payload: { id: `node:doc:${b}-${i}`, type: 'doc', properties: { body: randomBytes(300).toString('base64') } } })));
    }
    await first.close();
    // Fill the disk, leaving two pages: room for a small append, none for a checkpoint or a Parquet file.
    const free = () => Number(statfsSync(disk).bavail * statfsSync(disk).bsize);
    writeFileSync(join(disk, 'ballast'), Buffer.alloc(free() - 8192));

    const warnings: string[] = [];
    const db = await openTunedEngine({ dataDir, durability: 'fsync', onWarning: (m) => warnings.push(m), checkpointEveryMs: 1, checkpointEveryEvents: 0, segmentBytesMax: 16 * 1024 });
    try {
      const saw = (what: RegExp) => warnings.some((w) => what.test(w));
      expect(await until(() => saw(/checkpoint.* failed.*ENOSPC/) && saw(/compaction failed.*ENOSPC/), 8_000, 100), warnings.join('\n')).toBe(true);
      expect(tmpLeftovers(dataDir)).toEqual([]);
      // One clear line each: what failed, that nothing is left, and when it is tried again.
      expect(warnings.join('\n')).toMatch(/^background checkpoint at seq \d+ failed: ENOSPC.*; its partial files were removed, the log still holds every event, and it is retried in 5 s$/m);
      expect(warnings.join('\n')).toMatch(/^compaction failed: ENOSPC.*; its partial file was removed, the segment stays in the WAL \(nothing is lost\), and it is retried in 5 s$/m);
      expect(db.stats().checkpoint.written).toBe(0);
      expect(db.stats().compaction.parquetFiles).toBe(0);
      // Reads go on; a small write still fits (the failed work gave its pages back).
      expect(db.getNode('node:doc:0-0')).not.toBeNull();
      await db.addNode({ type: 'doc', id: 'node:doc:while-full', properties: {} });
      expect(db.getNode('node:doc:while-full')).not.toBeNull();

      rmSync(join(disk, 'ballast'));
      expect(await until(() => db.stats().checkpoint.written >= 1 && db.stats().compaction.parquetFiles >= 1 && db.stats().compaction.lastError === null, 15_000, 100), warnings.join('\n')).toBe(true);
      expect(tmpLeftovers(dataDir)).toEqual([]);
      await db.addNode({ type: 'doc', id: 'node:doc:after', properties: {} });
      expect(db.stats().totalNodes).toBe(402);
    } finally {
      await db.close();
    }
    const reopened = await openTunedEngine({ dataDir, durability: 'fsync', ...quiet });
    expect(reopened.stats().totalNodes).toBe(402);
    await reopened.close();
  });
});
