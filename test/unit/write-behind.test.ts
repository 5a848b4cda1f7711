// Background writers (a checkpoint's parts, compaction's Parquet) fdatasync as they go, so the
// log's own fsyncs never queue behind a whole file's writeback: no write follows another on the
// same file without an fdatasync between, and a checkpoint part's writes are at most
// writeBehindBytes each.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

import { prepareCheckpointDir, readCheckpoint, writeCheckpoint } from '../../src/engine/checkpoint.js';
import { writeBehindBytes } from '../../src/kernel/limits.js';
import type { StoredEvent } from '../../src/kernel/events.js';
import { writeEventsParquet } from '../../src/parquet/writer.js';
import { readParquetEvents } from '../../src/admin.js';
import { nodeFiles, type FileHandle, type FileLayer } from '../../src/storage/files.js';
import { tempDir } from '../support/engine.js';

/** nodeFiles, recording per handle each write's size and whether an fdatasync came before the next write. */
function recordingFiles(): { files: FileLayer; writes: number[]; writesWithoutSyncBetween: () => number } {
  const writes: number[] = [];
  const unsynced = new Map<FileHandle, boolean>();
  let backToBack = 0;
  const wrote = (handle: FileHandle, chunks: readonly Uint8Array[]): void => {
    if (unsynced.get(handle) === true) backToBack++;
    unsynced.set(handle, true);
    writes.push(chunks.reduce((n, c) => n + c.length, 0));
  };
  const files: FileLayer = {
    ...nodeFiles,
    write: (handle, chunks, position) => {
      wrote(handle, chunks);
      nodeFiles.write(handle, chunks, position);
    },
    writeAsync: async (handle, chunks, position) => {
      wrote(handle, chunks);
      await nodeFiles.writeAsync(handle, chunks, position);
    },
    fdatasync: async (handle) => {
      await nodeFiles.fdatasync(handle);
      unsynced.set(handle, false);
    },
    fdatasyncSync: (handle) => {
      nodeFiles.fdatasyncSync(handle);
      unsynced.set(handle, false);
    },
  };
  return { files, writes, writesWithoutSyncBetween: () => backToBack };
}

describe('write-behind of background writers', () => {
  it('given a 5 MB checkpoint part, when written, then in writes of at most writeBehindBytes each fdatasynced before the next, and the part reads back whole', async () => {
    const root = await tempDir('mnemo-write-behind-');
    const recorder = recordingFiles();
    const bytes = new Uint8Array(randomBytes(5 * writeBehindBytes + 123));
    const temp = prepareCheckpointDir(root, 7, recorder.files);
    await writeCheckpoint(root, 7, [{ name: 'big', bytes }], temp, recorder.files);
    const partWrites = recorder.writes.filter((n) => n > 4096);
    expect(partWrites).toEqual([1, 2, 3, 4, 5].map(() => writeBehindBytes)); // and its last 123 bytes
    expect(Math.max(...partWrites)).toBeLessThanOrEqual(writeBehindBytes);
    expect(recorder.writesWithoutSyncBetween()).toBe(0);
    const written = nodeFiles.list(join(root, '00000000000000000007')).find((name) => name.startsWith('big'))!;
    expect(Buffer.compare(Buffer.from(nodeFiles.readFile(join(root, '00000000000000000007', written))), Buffer.from(bytes))).toBe(0);
  });

  it('given a part saved as runs of uneven sizes, when written, then the steps still fill writeBehindBytes each and the part reads back as the runs joined, its checksum whole', async () => {
    const root = await tempDir('mnemo-write-behind-');
    const recorder = recordingFiles();
    const runs = [7, writeBehindBytes - 3, 2 * writeBehindBytes + 5, 0, 1000].map((n) => new Uint8Array(randomBytes(n)));
    const temp = prepareCheckpointDir(root, 9, recorder.files);
    await writeCheckpoint(root, 9, [{ name: 'runs', bytes: runs }], temp, recorder.files);
    const partWrites = recorder.writes.filter((n) => n > 4096);
    expect(partWrites).toEqual([writeBehindBytes, writeBehindBytes, writeBehindBytes]);
    expect(recorder.writesWithoutSyncBetween()).toBe(0);
    // readCheckpoint checks each part's length and crc32 against the manifest.
    const loaded = readCheckpoint(join(root, '00000000000000000009'));
    expect(Buffer.compare(Buffer.from(loaded.parts.get('runs')!), Buffer.concat(runs))).toBe(0);
  });

  it('given events of ~6 MB that do not compress, when written as Parquet, then every write is fdatasynced before the next, and the file reads back', async () => {
    const dir = await tempDir('mnemo-write-behind-');
    const recorder = recordingFiles();
    const events: StoredEvent[] = Array.from({ length: 12_000 }, (_, i) => ({
      seq: i + 1,
      ts: 1_700_000_000_000 + i,
      type: 'prime.node.created',
      payload: { id: `node:noise:${i}`, type: 'noise', properties: { noise: randomBytes(256).toString('base64') } },
    }));
    const path = join(dir, 'events.parquet');
    const written = writeEventsParquet(path, events, recorder.files);
    expect(written.rows).toBe(events.length);
    expect(recorder.writes.length).toBeGreaterThanOrEqual(3);
    expect(recorder.writesWithoutSyncBetween()).toBe(0);
    const back = [...(await readParquetEvents(path))];
    expect(back.length).toBe(events.length);
    expect(back[back.length - 1]!.payload).toEqual(events[events.length - 1]!.payload);
  });
});
