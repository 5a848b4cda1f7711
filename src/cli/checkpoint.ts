// `mnemo checkpoint [--data-dir DIR]`: opens the data dir (taking the writer lock), writes a
// checkpoint at the last seq, and closes. The next start replays only events after it.
import { openForOperator } from '../admin.js';
import { dataDirOf, type ParsedArgs } from './args.js';

export async function run(args: ParsedArgs): Promise<number> {
  const engine = await openForOperator(dataDirOf(args));
  try {
    const written = await engine.checkpoint();
    console.log(`checkpoint at seq ${written.seq}: ${written.dir} (${written.bytes} bytes, ${written.ms.toFixed(0)} ms)`);
    return 0;
  } finally {
    await engine.close();
  }
}
