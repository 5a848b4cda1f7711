// Power loss on a simulated disk: bytes not yet fsynced are dropped, or cut and
// then zeroed or garbled. The real WAL runs on it (fsync mode, group commit,
// small segments so rotation happens), power fails at a random moment, and the
// reopened log must hold every acknowledged event, and only whole batches.
import { encodePayload } from '../../wal/record.js';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isMnemoError } from '../../src/kernel/errors.js';
import { lockFileName } from '../../wal/lock.js';
import { openWal, type Wal } from '../../wal/wal.js';
import { SimFiles, seededRandom, type CutDamage, type CutVariant } from '../support/sim-files.js';

const dir = '/data/wal';
const lockPath = join(dir, lockFileName);
const casesTotal = Number(process.env.MNEMO_WAL_CASES ?? 10_000);
/** Power cuts per case: the second one lands on a log that already went through a cut and a recovery. */
const roundsPerCase = 2;
const baseSeed = Number(process.env.MNEMO_WAL_SEED ?? 20_240_601);
const variants: CutVariant[] = ['drop', 'zero', 'garble'];

/** What an event carries so the reader can check it: its seq, its batch (first seq and size), and a body derived from the seq. */
interface TestEvent {
  s: number;
  b: number;
  n: number;
  body: string;
}

function bodyOf(seq: number): string {
  return `e${(seq * 2_654_435_761) % 1_000_003}`;
}

function hammingDistance(a: Uint8Array, b: Uint8Array): number {
  let bits = 0;
  for (let i = 0; i < a.length; i++) {
    let x = (a[i]! ^ b[i]!) & 0xff;
    for (; x !== 0; x &= x - 1) bits++;
  }
  return bits;
}

function tick(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Every event present, gap-free from 1, intact, in whole batches, and every acknowledged seq present. */
function checkLog(wal: Wal, ackedThrough: number, label: string): void {
  let expected = 1;
  for (const { seq, event } of wal.replay()) {
    const e = event as TestEvent;
    if (seq !== expected || e.s !== seq || e.body !== bodyOf(seq) || seq < e.b || seq >= e.b + e.n || e.b + e.n - 1 > wal.lastSeq) {
      expect.fail(`${label}: bad event at seq ${seq} (expected ${expected}): ${JSON.stringify(e)}, lastSeq ${wal.lastSeq}`);
    }
    expected++;
  }
  if (expected - 1 !== wal.lastSeq) expect.fail(`${label}: replay ends at ${expected - 1}, lastSeq is ${wal.lastSeq}`);
  if (wal.lastSeq < ackedThrough) expect.fail(`${label}: acknowledged through seq ${ackedThrough}, but the log ends at ${wal.lastSeq}`);
}

interface Outcome {
  /** Cases where the garbled tail was exactly one bit off a whole record, which the WAL refuses by rule (repair then recovers). */
  singleBitRefusals: number;
  tornTails: number;
}

/**
 * Opens after a cut. A refusal is allowed only when the damage is exactly one
 * flipped bit (documented rule: that is indistinguishable from media damage);
 * repair must then recover every acknowledged event.
 */
async function reopen(disk: SimFiles, damage: CutDamage[], label: string, outcome: Outcome, segmentBytesMax: number): Promise<Wal> {
  try {
    const wal = await openWal({ dir, durability: 'fsync', files: disk, segmentBytesMax });
    if (wal.recovery.tornTail !== undefined) outcome.tornTails++;
    return wal;
  } catch (e) {
    if (!isMnemoError(e, 'WAL_CORRUPT')) throw e;
    const cut = damage.find((d) => d.path === e.details.file);
    const flippedBits = cut === undefined ? -1 : hammingDistance(cut.after, cut.written.subarray(0, cut.after.length));

    if (flippedBits !== 1) expect.fail(`${label}: refused to open although the damage is not one flipped bit (${flippedBits}): ${e.message}`);
    outcome.singleBitRefusals++;
    return openWal({ dir, durability: 'fsync', files: disk, segmentBytesMax, repair: true });
  }
}

async function runCase(seed: number, variant: CutVariant, outcome: Outcome): Promise<void> {
  const random = seededRandom(seed);
  const segmentBytesMax = 200 + Math.floor(random() * 600);
  let disk = new SimFiles();
  let damage: CutDamage[] = [];
  let ackedThrough = 0;
  for (let round = 0; round <= roundsPerCase; round++) {
    const label = `seed ${seed} (${variant}) round ${round}`;
    const wal = await reopen(disk, damage, label, outcome, segmentBytesMax);
    checkLog(wal, ackedThrough, label);
    if (round === roundsPerCase) return wal.close();
    let acked = ackedThrough;
    const steps = 1 + Math.floor(random() * 12);
    for (let step = 0; step < steps; step++) {
      if (random() < 0.4) {
        await tick();
        continue;
      }
      const firstSeq = wal.lastSeq + 1;
      const size = 1 + Math.floor(random() * 5);
      const events = Array.from({ length: size }, (_, i): TestEvent => ({ s: firstSeq + i, b: firstSeq, n: size, body: bodyOf(firstSeq + i) }));
      const lastSeq = firstSeq + size - 1;
      void wal.append(firstSeq, size, encodePayload(events)).then(() => {
        acked = Math.max(acked, lastSeq);
      });
    }
    if (random() < 0.5) await tick();
    ackedThrough = acked; // acknowledged = resolved before the power fails
    ({ disk, damage } = disk.powerCut(random, variant, [lockPath]));
  }
}

describe('WAL power loss (simulated disk)', () => {
  it(`given ${casesTotal} seeded power cuts, when reopened, then no acknowledged event is lost and every batch is whole or absent`, async () => {
    const outcome: Outcome = { singleBitRefusals: 0, tornTails: 0 };
    for (let i = 0; i < casesTotal; i++) {
      const seed = baseSeed + i;
      try {
        await runCase(seed, variants[seed % variants.length]!, outcome);
      } catch (e) {
        throw new Error(`power-loss case failed; replay with MNEMO_WAL_SEED=${seed}: ${(e as Error).message}`, { cause: e });
      }
    }
    console.log(`power loss: ${casesTotal} cases, ${outcome.tornTails} torn tails cut, ${outcome.singleBitRefusals} single-bit refusals repaired`);
    expect(outcome.tornTails).toBeGreaterThan(casesTotal / 10); // the cuts really do tear records
    expect(outcome.singleBitRefusals).toBeLessThan(casesTotal / 100);
  });
});
