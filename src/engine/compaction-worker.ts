// The compaction worker thread: compacts one sealed segment per message (see compaction.ts,
// compactSegment) and replies with the verified Parquet file or the error. Encoding a segment
// (~1 s per 64 MiB) runs here so the engine's event loop keeps serving reads and appends.
import { parentPort } from 'node:worker_threads';

import { compactSegment, type SegmentJob } from './compaction.js';

const port = parentPort;
if (port === null) throw new Error('assertion failed: compaction-worker runs as a worker thread');
port.on('message', async (job: SegmentJob) => {
  try {
    port.postMessage({ ok: true, done: await compactSegment(job) });
  } catch (e) {
    port.postMessage({ ok: false, error: e instanceof Error ? e.message : String(e) });
  }
});
