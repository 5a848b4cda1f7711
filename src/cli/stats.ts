// `mnemo stats [--data-dir DIR]`: opens the data dir and prints engine.stats() as JSON (counts,
// WAL, checkpoint, compaction). Takes the writer lock, so it fails while a server holds the dir;
// ask the server's GET /api/v1/prime/stats instead.
import { dataDirOf, type ParsedArgs } from './args.js';
import { openForOperator } from '../admin.js';

export async function run(args: ParsedArgs): Promise<number> {
  const engine = await openForOperator(dataDirOf(args));
  try {
    console.log(JSON.stringify(engine.stats(), null, 2));
    return 0;
  } finally {
    await engine.close();
  }
}
