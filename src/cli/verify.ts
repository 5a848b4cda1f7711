// `mnemo verify [--data-dir DIR] [--repair]`: reads every WAL record (both checksums, seq
// continuity, payload decoding) and reports damage with file and byte offset. Exit 0 when
// everything is intact, 1 on damage. Read-only and lock-free: it can run beside a live server.
// Then every checkpoint (manifest checksum, format, each file's length and crc32) and every
// Parquet file (read whole: footer, columns, payloads, seq range against its name, and the chain
// from seq 1 to the WAL, holes allowed only where a repair recorded the seqs as lost).
//
// With --repair, damage found is repaired (admin.ts repairDataDir: the data dir is opened with
// repair, which takes the writer lock), each step reported, and everything checked again: the
// exit code is that of the second check.
import { repairDataDir, verifyDataDir, type DataDirVerifyResult } from '../admin.js';
import { dataDirOf, type ParsedArgs } from './args.js';

export async function run(args: ParsedArgs): Promise<number> {
  const dataDir = dataDirOf(args);
  const repair = args.values['repair'] === true;
  const first = await verifyDataDir(dataDir);
  const ok = report(first, repair);
  // A leftover is not damage, but with --repair it is removed too (by the open).
  if (!repair || (ok && first.parquet.orphans.length === 0)) return ok ? 0 : 1;
  console.log('repairing:');
  await repairDataDir(dataDir, (message) => console.log(`  ${message}`));
  console.log('checking again:');
  return report(await verifyDataDir(dataDir), true) ? 0 : 1;
}

/** Prints one check; true when nothing is damaged. */
function report(result: DataDirVerifyResult, repairing: boolean): boolean {
  const { wal, walDir } = result;
  const range = wal.events === 0 ? 'no events' : `seq ${wal.firstSeq}..${wal.lastSeq}`;
  console.log(`wal ${walDir}: ${wal.segments} segments, ${wal.records} records, ${wal.events} events, ${range}`);
  for (const problem of wal.problems) console.log(`  damaged: ${problem.file} at byte ${problem.offset}: ${problem.reason}`);
  const storesOk = reportStores(result, wal.events === 0 ? null : wal.firstSeq);
  const ok = wal.ok && storesOk;
  if (ok) console.log('ok');
  else if (repairing) console.log('problem(s) found');
  else console.log(`problem(s) found; 'mnemo verify --repair' (or 'mnemo serve --repair') sets damaged files aside and says which seqs are lost: copy the data dir first`);
  return ok;
}

/** Checkpoints and Parquet files; true when all are intact. A damaged checkpoint only slows a restart (open falls back), but it is still reported. */
function reportStores({ parquet, parquetDir, checkpoints, checkpointsDir }: DataDirVerifyResult, walFirstSeq: number | null): boolean {
  const span = parquet.lastSeq > 0 ? `, seq 1..${parquet.lastSeq}` : '';
  console.log(`parquet ${parquetDir}: ${parquet.files} files, ${parquet.rows} events${span}`);
  for (const problem of parquet.problems) console.log(`  damaged: ${problem.file}: ${problem.reason}`);
  for (const lost of parquet.lost) {
    const where = lost.movedTo === null ? 'its file was missing' : `the damaged file was set aside as ${lost.movedTo}`;
    console.log(`  lost: seqs ${lost.firstSeq}..${lost.lastSeq}, given up by a repair at ${new Date(lost.at).toISOString()} (${where}): known, not new damage`);
  }
  // Not damage: a compaction stopped before its rename, and its events are still in the WAL.
  for (const orphan of parquet.orphans) console.log(`  leftover: ${orphan}, left by a compaction that did not finish (harmless: its events are in the WAL; the next open removes it)`);
  let chained = true;
  if (walFirstSeq !== null && parquet.problems.length === 0 && walFirstSeq > parquet.lastSeq + 1) {
    console.log(`  missing: events ${parquet.lastSeq + 1}..${walFirstSeq - 1} are in neither Parquet nor the WAL`);
    chained = false;
  }
  console.log(`checkpoints ${checkpointsDir}: ${checkpoints.checkpoints.length} (${checkpoints.checkpoints.map((c) => `seq ${c.seq}`).join(', ') || 'none'})`);
  for (const c of checkpoints.checkpoints) if (!c.ok) console.log(`  damaged: ${c.dir}: ${c.reason} (open falls back to an older checkpoint or a full replay)`);
  return parquet.ok && chained && checkpoints.ok;
}
