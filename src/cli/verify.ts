// `mnemo verify [--data-dir DIR]`: reads every WAL record (both checksums, seq
// continuity, payload decoding) and reports damage with file and byte offset.
// Exit 0 when everything is intact, 1 on damage. Read-only and lock-free: it can
// run beside a live server. Then every checkpoint (manifest checksum, format, each
// file's length and crc32) and every Parquet file (read whole: footer, columns,
// payloads, seq range against its name, and the chain from seq 1 to the WAL).
import { verifyDataDir, type DataDirVerifyResult } from '../admin.js';
import { dataDirOf, type ParsedArgs } from './args.js';

export async function run(args: ParsedArgs): Promise<number> {
  const result = await verifyDataDir(dataDirOf(args));
  const { wal, walDir } = result;
  const range = wal.events === 0 ? 'no events' : `seq ${wal.firstSeq}..${wal.lastSeq}`;
  console.log(`wal ${walDir}: ${wal.segments} segments, ${wal.records} records, ${wal.events} events, ${range}`);
  for (const problem of wal.problems) console.log(`  damaged: ${problem.file} at byte ${problem.offset}: ${problem.reason}`);
  const storesOk = reportStores(result, wal.events === 0 ? null : wal.firstSeq);
  const ok = wal.ok && storesOk;
  console.log(ok ? 'ok' : wal.ok ? 'problem(s) found in checkpoints or Parquet files' : `${wal.problems.length} problem(s) found; open with repair to set damaged segments aside`);
  return ok ? 0 : 1;
}

/** Checkpoints and Parquet files; true when all are intact. A damaged checkpoint only slows a restart (open falls back), but it is still reported. */
function reportStores({ parquet, parquetDir, checkpoints, checkpointsDir }: DataDirVerifyResult, walFirstSeq: number | null): boolean {
  const parquetEnd = parquet.rows === 0 ? 0 : parquet.rows;
  console.log(`parquet ${parquetDir}: ${parquet.files} files, ${parquet.rows} events${parquet.rows > 0 ? `, seq 1..${parquetEnd}` : ''}`);
  for (const problem of parquet.problems) console.log(`  damaged: ${problem.file}: ${problem.reason}`);
  // Not damage: a compaction stopped before its rename, and its events are still in the WAL.
  for (const orphan of parquet.orphans) console.log(`  orphan: ${orphan}, left by a compaction that did not finish (harmless: its events are in the WAL; open removes it)`);
  let chained = true;
  if (walFirstSeq !== null && parquet.problems.length === 0 && walFirstSeq > parquetEnd + 1) {
    console.log(`  missing: events ${parquetEnd + 1}..${walFirstSeq - 1} are in neither Parquet nor the WAL`);
    chained = false;
  }
  console.log(`checkpoints ${checkpointsDir}: ${checkpoints.checkpoints.length} (${checkpoints.checkpoints.map((c) => `seq ${c.seq}`).join(', ') || 'none'})`);
  for (const c of checkpoints.checkpoints) if (!c.ok) console.log(`  damaged: ${c.dir}: ${c.reason} (open falls back to an older checkpoint or a full replay)`);
  return parquet.ok && chained && checkpoints.ok;
}
