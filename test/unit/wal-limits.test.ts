// Limits and misuse: each fails fast with a typed error (or an assertion, for a bug), and nothing is written.
import { encodePayload } from '../../wal/record.js';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isMnemoError } from '../../src/kernel/errors.js';
import { batchBytesMax, batchEventsMax } from '../../src/kernel/limits.js';
import { openWal } from '../../wal/wal.js';

/** What `body` throws synchronously (the log refuses before writing), or undefined. */
function thrownBy(body: () => unknown): unknown {
  try {
    body();
  } catch (e) {
    return e;
  }
  return undefined;
}

describe('WAL limits', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mnemo-wal-limits-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function walBytes(): Promise<number> {
    let bytes = 0;
    for (const name of await readdir(dir)) if (name.endsWith('.wal')) bytes += (await stat(join(dir, name))).size;
    return bytes;
  }

  it('given a payload over batchBytesMax, when appended, then BATCH_TOO_LARGE and nothing is written', async () => {
    const wal = await openWal({ dir, durability: 'fsync' });
    const error = thrownBy(() => wal.append(1, 1, new Uint8Array(batchBytesMax + 1)));
    expect(isMnemoError(error, 'BATCH_TOO_LARGE')).toBe(true);
    expect((error as { details: unknown }).details).toEqual({ size: batchBytesMax + 1, max: batchBytesMax, unit: 'bytes' });
    expect(wal.lastSeq).toBe(0);
    expect(await walBytes()).toBe(0);
    await wal.close();
  });

  it('given more than batchEventsMax events, when appended, then BATCH_TOO_LARGE and nothing is written', async () => {
    const wal = await openWal({ dir, durability: 'none' });
    const error = thrownBy(() => wal.append(1, batchEventsMax + 1, encodePayload([1])));
    expect(isMnemoError(error, 'BATCH_TOO_LARGE')).toBe(true);
    expect(await walBytes()).toBe(0);
    await wal.close();
  });

  it('given a closed log, when appended to, then WAL_CLOSED', async () => {
    const wal = await openWal({ dir, durability: 'fsync' });
    await wal.append(1, 1, encodePayload([{ a: 1 }]));
    await wal.close();
    const error = thrownBy(() => wal.append(2, 1, encodePayload([{ a: 2 }])));
    expect(isMnemoError(error, 'WAL_CLOSED')).toBe(true);
  });

  it('given an open log, when a second writer opens the same dir, then WAL_LOCKED naming dir and pid; after close it opens', async () => {
    const wal = await openWal({ dir, durability: 'fsync' });
    const error = await openWal({ dir, durability: 'fsync' }).catch((e: unknown) => e);
    expect(isMnemoError(error, 'WAL_LOCKED')).toBe(true);
    expect((error as { details: unknown }).details).toEqual({ dir, pid: process.pid });
    expect((error as Error).message).toContain(dir);
    await wal.close();
    const again = await openWal({ dir, durability: 'fsync' });
    await again.close();
  });

  it('given a LOCK left by a dead process, when opened, then the stale lock is taken over', async () => {
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    await writeFile(join(dir, 'LOCK'), `${dead.stdout}\n`);
    const wal = await openWal({ dir, durability: 'fsync' });
    expect(wal.lastSeq).toBe(0);
    await wal.close();
  });

  it('given a seq that does not continue the log, when appended, then an assertion fails (a caller bug) and nothing is written', async () => {
    const wal = await openWal({ dir, durability: 'fsync' });
    await wal.append(1, 2, encodePayload([1, 2]));
    expect(() => wal.append(5, 1, encodePayload([5]))).toThrow(/assertion failed: append at seq 5, but the log ends at seq 2/);
    expect(wal.lastSeq).toBe(2);
    await wal.close();
    const reopened = await openWal({ dir, durability: 'fsync' });
    expect([...reopened.replay()].map((e) => e.event)).toEqual([1, 2]);
    await reopened.close();
  });
});
