// The operator API: what `mnemo` commands and operators need beyond the embedded API — open a data
// dir for one job (no background work), verify every file, read and write the Parquet event format
// for import and export, checkpoint and compact on demand. The surfaces import this, index.ts and
// the kernel, nothing deeper.

import { join } from 'node:path';

import { verifyWal, type VerifyResult } from '../wal/wal.js';
import { Engine, type EngineTuning } from './engine/engine.js';
import { checkpointsDirName, verifyCheckpoints, type CheckpointVerifyResult } from './engine/checkpoint.js';
import { parquetDirName, verifyParquetDir, type ParquetVerifyResult } from './engine/compaction.js';
import type { EngineOptions } from './kernel/api.js';
import type { StoredEvent } from './kernel/events.js';
import { readParquetEvents } from './parquet/reader.js';
import { writeEventsParquet } from './parquet/writer.js';
import { publishAtomically, tempSuffix } from './storage/atomic.js';
import { nodeFiles, setAside, type FileLayer } from './storage/files.js';

export { Engine, type EngineTuning } from './engine/engine.js';
export { readParquetEvents, writeEventsParquet, publishAtomically };
export type { VerifyResult, CheckpointVerifyResult, ParquetVerifyResult };

/** Opens an engine with tuning (checkpoint policy, background compaction, segment size): for tools, tests and benchmarks. */
export function openTunedEngine(options: EngineOptions & EngineTuning): Promise<Engine> {
  return Engine.open(options);
}

/** An engine for one operator job: no background checkpoints or compaction, so a command does only what it says. */
export function openForOperator(dataDir: string, onWarning: (message: string) => void = (m) => console.error(`mnemo: ${m}`), repair = false): Promise<Engine> {
  return Engine.open({ dataDir, durability: 'fsync', checkpointEveryEvents: 0, checkpointEveryMs: 0, backgroundCompaction: false, onWarning, repair });
}

/**
 * `mnemo verify --repair`: opens the data dir with repair (damaged WAL segments and Parquet files
 * set aside, their seqs reported and recorded as lost; leftovers of interrupted work removed), then
 * sets aside each checkpoint that fails its checks (open only tries the newest). Takes the writer
 * lock. Every notice goes to `report`.
 */
export async function repairDataDir(dataDir: string, report: (message: string) => void): Promise<void> {
  const engine = await openForOperator(dataDir, report, true);
  await engine.close();
  for (const checkpoint of verifyCheckpoints(join(dataDir, checkpointsDirName)).checkpoints) {
    if (checkpoint.ok) continue;
    const movedTo = setAside(checkpoint.dir);
    if (movedTo instanceof Error) throw movedTo;
    report(`moved damaged checkpoint ${checkpoint.dir} aside to ${movedTo}: ${checkpoint.reason} (nothing lost: the log holds its events)`);
  }
}

export interface DataDirVerifyResult {
  wal: VerifyResult;
  walDir: string;
  parquet: ParquetVerifyResult;
  parquetDir: string;
  checkpoints: CheckpointVerifyResult;
  checkpointsDir: string;
}

/** Reads every WAL record, checkpoint and Parquet file of a data dir. Read-only and lock-free: it can run beside a live server. */
export async function verifyDataDir(dataDir: string): Promise<DataDirVerifyResult> {
  const walDir = join(dataDir, 'wal');
  const parquetDir = join(dataDir, parquetDirName);
  const checkpointsDir = join(dataDir, checkpointsDirName);
  return { wal: await verifyWal(walDir), walDir, parquet: verifyParquetDir(parquetDir), parquetDir, checkpoints: verifyCheckpoints(checkpointsDir), checkpointsDir };
}

/**
 * Writes `events` to the Parquet file `out` atomically: a temp file beside it, then fsync, rename
 * and a directory fsync, so a reader never sees half a file. Returns the rows written.
 */
export function exportParquetFile(events: Iterable<StoredEvent>, out: string, files: FileLayer = nodeFiles): number {
  const temp = out + tempSuffix;
  try {
    files.unlink(temp);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const { rows } = writeEventsParquet(temp, events, files);
  publishAtomically(temp, out, files);
  return rows;
}
// ---- federation: what the server and CLI need to take part (docs/federation.md) ----

export { loadIdentity, type PeerIdentity } from './peers/identity.js';
export { PeerRequestVerifier, signRequest, signatureHeader, peerTrustVariable, type SignedRequest } from './peers/signing.js';
export { peerView, sharedDomains, peerDomainsVariable } from './peers/peer-view.js';
export { parsePeerList, peersVariable } from './peers/config.js';
