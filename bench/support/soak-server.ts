// Child process for bench/soak.ts: a data dir served over HTTP with background checkpoints and
// compaction tuned to happen within minutes (small segments, frequent checkpoints), as a long-
// running server would over days. Prints its URL once listening; stops on SIGTERM.
import { openTunedEngine } from '../../src/admin.js';
import { startHttpServer } from '../../src/server/http.js';

const [dataDir, segmentBytes, checkpointEvents, compaction] = process.argv.slice(2);
if (dataDir === undefined) throw new Error('usage: soak-server.js DIR [SEGMENT_BYTES] [CHECKPOINT_EVENTS] [on|off (compaction)]');
const engine = await openTunedEngine({
  dataDir,
  durability: 'fsync',
  commit: 'inline',
  segmentBytesMax: Number(segmentBytes ?? 4 * 1024 * 1024),
  checkpointEveryEvents: Number(checkpointEvents ?? 50_000),
  checkpointEveryMs: 60_000,
  backgroundCompaction: compaction !== 'off',
  onWarning: (m) => console.error(`mnemo: ${m}`),
});
const server = await startHttpServer(engine, { port: 0 });
console.log(`soak server at ${server.url}`);
process.once('SIGTERM', () => {
  void server.close().then(() => engine.close()).then(() => process.exit(0));
});
