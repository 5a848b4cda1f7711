// Child process for test/int/wal-crash.test.ts (lives under bench/ so tsc compiles it).
// Opens the WAL in `fsync` mode and appends batches of 1–50 events forever, keeping
// several appends in flight so group commit is exercised, and prints every
// acknowledged range as `ack FIRST LAST` the moment its promise resolves (stdout to
// a pipe is synchronous on Linux, so a printed ack is in the pipe before a kill -9).
// Usage: node wal-crash-child.js DIR SEED SEGMENT_BYTES_MAX
import { encodePayload } from '../../wal/record.js';
import { openWal } from '../../wal/wal.js';

/** Appends in flight at once: enough that fsyncs cover groups of them. */
const inFlightMax = 8;
const batchEventsMaxHere = 50;

/** The body every event carries, derived from its seq, so the reader can check content. */
export function crashBodyOf(seq: number): string {
  return `body-${seq}-${(seq * 2_654_435_761) % 4_294_967_291}`;
}

export interface CrashEvent {
  type: 'prime.node.created';
  payload: { id: string; type: string; properties: { seq: number; batch: number; size: number; body: string } };
}

function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state / 4_294_967_296;
  };
}

async function main(): Promise<void> {
  const [dir, seedText, segmentText] = process.argv.slice(2);
  if (dir === undefined) throw new Error('usage: wal-crash-child DIR SEED SEGMENT_BYTES_MAX');
  const next = random(Number(seedText ?? 1));
  const wal = await openWal({ dir, durability: 'fsync', segmentBytesMax: Number(segmentText ?? 1 << 20) });
  process.stdout.write(`ready ${wal.lastSeq}\n`);
  let inFlight = 0;
  let slotFree: (() => void) | null = null;
  for (;;) {
    const firstSeq = wal.lastSeq + 1;
    const size = 1 + Math.floor(next() * batchEventsMaxHere);
    const events: CrashEvent[] = [];
    for (let i = 0; i < size; i++) {
      const seq = firstSeq + i;
      events.push({ type: 'prime.node.created', payload: { id: `node:crash:${seq}`, type: 'crash', properties: { seq, batch: firstSeq, size, body: crashBodyOf(seq) } } });
    }
    inFlight++;
    wal.append(firstSeq, size, encodePayload(events)).then(() => {
      process.stdout.write(`ack ${firstSeq} ${firstSeq + size - 1}\n`);
      inFlight--;
      slotFree?.();
    });
    if (inFlight >= inFlightMax) await new Promise<void>((resolve) => (slotFree = resolve));
    else if (next() < 0.3) await new Promise((resolve) => setImmediate(resolve));
  }
}

if (process.argv[1]?.endsWith('wal-crash-child.js')) {
  main().catch((e: unknown) => {
    process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
    process.exit(1);
  });
}
