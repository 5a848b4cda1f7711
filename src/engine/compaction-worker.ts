// The compaction child process: compacts one sealed segment per message (see compaction.ts,
// compactSegment) and replies with the verified Parquet file or the error. Encoding a segment
// (~1 s per 64 MiB) runs here so the engine's event loop keeps serving reads and appends, and in a
// process of its own, not a thread, so that the memory it used goes back to the OS when it exits
// (a thread's freed memory stays in its glibc arena: the soak in docs/reliability.md).
import { compactSegment, type SegmentJob } from './compaction.js';

const send = process.send?.bind(process);
if (send === undefined) throw new Error('assertion failed: compaction-worker runs as a child process with an IPC channel');
const engine = process.ppid;
// The engine closed its end (it stopped, or its process died): stop too, whatever is in progress
// (a half-written temp file is an orphan the next open removes).
process.on('disconnect', () => process.exit(0));

/** Whether the engine's process still runs: asked before a publish, since the disconnect above waits for this loop. */
function engineAlive(): boolean {
  try {
    process.kill(engine, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

process.on('message', async (job: SegmentJob) => {
  try {
    send({ ok: true, done: await compactSegment(job, undefined, engineAlive) });
  } catch (e) {
    send({ ok: false, error: e instanceof Error ? e.message : String(e) });
  }
});
