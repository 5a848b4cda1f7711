// `mnemo stats [--data-dir DIR]`: opens the data dir and prints engine.stats() as JSON (counts,
// WAL, checkpoint, compaction) in snake_case, the shape GET /api/v1/prime/stats answers (which adds
// the server's own: memory, uptime, requests, latency). Takes the writer lock, so it fails while a server holds the dir;
// ask the server's GET /api/v1/prime/stats instead.
import { dataDirOf, type ParsedArgs } from './args.js';
import { openForOperator } from '../admin.js';
import { toSnakeCase } from '../kernel/wire.js';

export async function run(args: ParsedArgs): Promise<number> {
  const engine = await openForOperator(dataDirOf(args));
  try {
    console.log(JSON.stringify(toSnakeCase(engine.stats()), null, 2));
    return 0;
  } finally {
    await engine.close();
  }
}
