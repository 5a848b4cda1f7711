// `mnemo checkpoint [--data-dir DIR]`: opens the data dir (taking the writer lock), writes a
// checkpoint at the last seq, and closes. The next start replays only events after it.
import { Engine } from '../engine.js';
import { dataDirOf, type ParsedArgs } from './args.js';

/** The CLI's engine: no background checkpoints or compaction, so a command does only what it says. */
export function openForCli(dataDir: string): Promise<Engine> {
  return Engine.open({ dataDir, durability: 'fsync', checkpointEveryEvents: 0, checkpointEveryMs: 0, backgroundCompaction: false, onWarning: (m) => console.error(`mnemo: ${m}`) });
}

export async function run(args: ParsedArgs): Promise<number> {
  const engine = await openForCli(dataDirOf(args));
  try {
    const written = await engine.checkpoint();
    console.log(`checkpoint at seq ${written.seq}: ${written.dir} (${written.bytes} bytes, ${written.ms.toFixed(0)} ms)`);
    return 0;
  } finally {
    await engine.close();
  }
}
