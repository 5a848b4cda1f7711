// `mnemo compact [--data-dir DIR]`: seals the active WAL segment and compacts every sealed one to
// Parquet (<dataDir>/parquet/). Afterwards every event is in Parquet.
import { dataDirOf, type ParsedArgs } from './args.js';
import { openForOperator } from '../admin.js';

export async function run(args: ParsedArgs): Promise<number> {
  const engine = await openForOperator(dataDirOf(args));
  try {
    const started = performance.now();
    const stats = await engine.compact();
    const seconds = (performance.now() - started) / 1000;
    console.log(`compacted in ${seconds.toFixed(2)} s: ${stats.parquetFiles} Parquet files, ${stats.parquetRows} events, ${stats.parquetBytes} bytes`);
    return 0;
  } finally {
    await engine.close();
  }
}
