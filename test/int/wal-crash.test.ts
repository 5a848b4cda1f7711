// Crash loop with real processes: a child appends in fsync mode with several
// appends in flight; we kill -9 it at a random moment and reopen the log here.
// Every acknowledged event must be there and intact, seqs gap-free from 1, and
// every batch whole or absent. One data dir for all iterations, so the log grows
// across segments and recoveries.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crashBodyOf, type CrashEvent } from '../../bench/support/wal-crash-child.js';
import { openWal } from '../../wal/wal.js';

const root = resolve(import.meta.dirname, '../..');
const childPath = join(root, 'dist/bench/support/wal-crash-child.js');
const iterations = Number(process.env.MNEMO_CRASH_ITERATIONS ?? 100);
const seed = Number(process.env.MNEMO_CRASH_SEED ?? Date.now() % 1_000_000);
/** Small segments so rotation happens under the kills too. */
const segmentBytesMax = 256 * 1024;

function random(initial: number): () => number {
  let state = initial >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), state | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Runs the child until it has appended for `appendMs`, then kill -9. Returns the highest acknowledged seq. */
function crashOnce(dir: string, childSeed: number, appendMs: number): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [childPath, dir, String(childSeed), String(segmentBytesMax)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let acked = 0;
    let buffered = '';
    let stderr = '';
    let killTimer: NodeJS.Timeout | null = null;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        const [kind, , last] = line.split(' ');
        if (kind === 'ready' && killTimer === null) killTimer = setTimeout(() => child.kill('SIGKILL'), appendMs);
        if (kind === 'ack') acked = Math.max(acked, Number(last));
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`child exited on its own (code ${code}): ${stderr}`));
      else resolvePromise(acked);
    });
  });
}

/**
 * Reopens and checks events from `fromSeq` on: seq continuity, content, whole
 * batches. Open itself re-checks every record's checksums, so events verified in an
 * earlier iteration are known unchanged; the last iteration checks from seq 1.
 * Returns lastSeq.
 */
async function checkLog(dir: string, ackedThrough: number, fromSeq: number): Promise<number> {
  const wal = await openWal({ dir, durability: 'fsync' });
  try {
    let expected = fromSeq;
    for (const { seq, event } of wal.replay(fromSeq)) {
      const { properties: p } = (event as CrashEvent).payload;
      if (seq !== expected || p.seq !== seq || p.body !== crashBodyOf(seq) || p.batch > seq || p.batch + p.size <= seq || p.batch + p.size - 1 > wal.lastSeq) {
        expect.fail(`bad event at seq ${seq} (expected ${expected}): ${JSON.stringify(p)}, lastSeq ${wal.lastSeq}`);
      }
      expected++;
    }
    expect(Math.max(expected - 1, fromSeq - 1)).toBe(wal.lastSeq);
    expect(wal.lastSeq).toBeGreaterThanOrEqual(ackedThrough);
    return wal.lastSeq;
  } finally {
    await wal.close();
  }
}

describe('WAL crash loop (kill -9)', () => {
  let dir: string;
  beforeAll(() => {
    // The child runs as compiled JS: `npm test` builds dist/ before vitest starts.
    expect(existsSync(childPath), `${childPath} missing: run \`npm run build\` first`).toBe(true);
  });
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mnemo-wal-crash-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it(`given ${iterations} kill -9s at random moments, when reopened each time, then every acknowledged event is present and intact and batches are whole`, async () => {
    const next = random(seed);
    let ackedThrough = 0;
    let lastSeq = 0;
    try {
      for (let i = 0; i < iterations; i++) {
        const acked = await crashOnce(dir, Math.floor(next() * 2 ** 31), 5 + Math.floor(next() * 146));
        ackedThrough = Math.max(ackedThrough, acked);
        // From the start of the batch that held the previous last seq: at most 50 events back.
        const fromSeq = i === iterations - 1 ? 1 : Math.max(1, lastSeq - 50);
        lastSeq = await checkLog(dir, ackedThrough, fromSeq);
      }
    } catch (e) {
      throw new Error(`crash loop failed; replay with MNEMO_CRASH_SEED=${seed}: ${(e as Error).message}`, { cause: e });
    }
    console.log(`crash loop: seed ${seed}, ${iterations} kills, log at seq ${lastSeq}, acknowledged through ${ackedThrough}`);
    expect(lastSeq).toBeGreaterThan(0);
  });
});
