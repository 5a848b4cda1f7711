// Commit modes in one log: an inline log fsyncs on the calling thread before append returns; an
// append may still ask for group commit (replicated batches do), which fsyncs on the thread pool.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { nodeFiles, type FileLayer } from '../../src/storage/files.js';
import { encodePayload } from '../../wal/record.js';
import { openWal } from '../../wal/wal.js';

describe('WAL commit modes', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mnemo-wal-commit-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('given an inline log, when a batch asks for group commit, then its fsync runs on the thread pool and an inline append after it still fsyncs on the calling thread', async () => {
    const calls: string[] = [];
    let releasePoolSync: () => void = () => {};
    const files: FileLayer = {
      ...nodeFiles,
      fdatasyncSync: (handle) => {
        calls.push('sync');
        nodeFiles.fdatasyncSync(handle);
      },
      fdatasync: async (handle) => {
        calls.push('pool');
        await new Promise<void>((resolve) => (releasePoolSync = resolve));
        await nodeFiles.fdatasync(handle);
      },
    };
    const wal = await openWal({ dir, durability: 'fsync', commit: 'inline', files });
    calls.length = 0; // opening syncs the new segment
    const payload = encodePayload([{ n: 1 }]);
    let groupDone = false;
    const group = wal.append(1, 1, payload, 'group').then(() => (groupDone = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(calls).toEqual(['pool']);
    expect(groupDone).toBe(false); // waits for the pool's fsync
    await wal.append(2, 1, payload); // inline: covers both frames before it returns
    expect(calls).toEqual(['pool', 'sync']);
    await group;
    expect(groupDone).toBe(true);
    releasePoolSync();
    await wal.close();
    const reopened = await openWal({ dir, durability: 'fsync' });
    expect(reopened.lastSeq).toBe(2);
    await reopened.close();
  });
});
