// `mnemo verify [--data-dir DIR]`: reads every WAL record (both checksums, seq
// continuity, payload decoding) and reports damage with file and byte offset.
// Exit 0 when everything is intact, 1 on damage. Read-only and lock-free: it can
// run beside a live server. (Checkpoints and Parquet files join this later.)
import { join } from 'node:path';
import { verifyWal } from '../../wal/wal.js';
import { dataDirOf, type ParsedArgs } from './args.js';

export async function run(args: ParsedArgs): Promise<number> {
  const dataDir = dataDirOf(args);
  const walDir = join(dataDir, 'wal');
  const wal = await verifyWal(walDir);
  const range = wal.events === 0 ? 'no events' : `seq ${wal.firstSeq}..${wal.lastSeq}`;
  console.log(`wal ${walDir}: ${wal.segments} segments, ${wal.records} records, ${wal.events} events, ${range}`);
  for (const problem of wal.problems) console.log(`  damaged: ${problem.file} at byte ${problem.offset}: ${problem.reason}`);
  console.log(wal.ok ? 'ok' : `${wal.problems.length} problem(s) found; open with repair to set damaged segments aside`);
  return wal.ok ? 0 : 1;
}
