// Table-driven damage: every truncation offset, every flipped bit of the last two
// records, damage in a sealed segment — each with its expected outcome.
import { mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isMnemoError } from '../../src/kernel/errors.js';
import { checkFrame, encodeFrame, encodePayload } from '../../wal/record.js';
import { segmentName } from '../../wal/segment.js';
import { run as runVerify } from '../../src/cli/verify.js';
import { openWal, verifyWal, type Wal } from '../../wal/wal.js';
import { SimFiles } from '../support/sim-files.js';

const dir = '/data/wal';
const segmentPath = join(dir, segmentName(1));

/** One realistic event of each of the 7 types (the WAL does not validate them). */
const sevenTypes = [
  { type: 'prime.node.created', payload: { id: 'node:person:a1', type: 'person', properties: { name: 'Ada', domain: 'math' } } },
  { type: 'prime.node.updated', payload: { id: 'node:person:a1', properties: { name: null, born: 1815 } } },
  { type: 'prime.edge.created', payload: { id: 'edge:e1', source: 'node:person:a1', target: 'node:person:a1', relation: 'knows', weight: 0.5 } },
  { type: 'prime.vector.stored', payload: { id: 'node:person:a1', vector: [0.1, 0.2, 0.3, 0.4], text: 'Ada' } },
  { type: 'prime.edge.deleted', payload: { id: 'edge:e1' } },
  { type: 'prime.vector.deleted', payload: { id: 'node:person:a1' } },
  { type: 'prime.node.deleted', payload: { id: 'node:person:a1' } },
];

/** Batches (as indexes into sevenTypes): the last two records hold five of the seven types between them. */
const batches = [[0, 1], [2], [3, 4, 0], [5, 6]];

interface Image {
  bytes: Uint8Array;
  /** Byte offset where each record starts, plus the end. */
  starts: number[];
  events: unknown[];
}

function buildImage(): Image {
  const events: unknown[] = [];
  const frames: Uint8Array[] = [];
  const starts = [0];
  for (const batch of batches) {
    const firstSeq = events.length + 1;
    const batchEvents = batch.map((index, i) => ({ ...sevenTypes[index]!, seq: firstSeq + i, ts: 1_700_000_000_000 + firstSeq + i }));
    events.push(...batchEvents);
    const frame = encodeFrame(firstSeq, batchEvents.length, encodePayload(batchEvents));
    frames.push(frame);
    starts.push(starts[starts.length - 1]! + frame.length);
  }
  return { bytes: Buffer.concat(frames), starts, events };
}

function diskWith(bytes: Uint8Array): SimFiles {
  const disk = new SimFiles();
  disk.mkdirp(dir);
  disk.setFile(segmentPath, bytes);
  return disk;
}

function replayed(wal: Wal): unknown[] {
  return [...wal.replay()].map((e) => e.event);
}

/** Events wholly before byte `offset`. */
function eventsBefore(image: Image, offset: number): unknown[] {
  let count = 0;
  for (let r = 0; r < batches.length; r++) if (image.starts[r + 1]! <= offset) count += batches[r]!.length;
  return image.events.slice(0, count);
}

function recordAt(image: Image, byte: number): number {
  return image.starts.findIndex((start, r) => byte >= start && byte < image.starts[r + 1]!);
}

async function openError(disk: SimFiles): Promise<unknown> {
  try {
    const wal = await openWal({ dir, durability: 'none', files: disk });
    await wal.close();
  } catch (e) {
    return e;
  }
  return null;
}

describe('WAL corruption (one segment, all 7 event types)', () => {
  const image = buildImage();

  it('given the image, when opened, then every record replays', async () => {
    const wal = await openWal({ dir, durability: 'none', files: diskWith(image.bytes) });
    expect(replayed(wal)).toEqual(image.events);
    expect(wal.recovery.tornTail).toBeUndefined();
    await wal.close();
  });

  it('given a truncation at every byte offset, when opened, then exactly the whole records before it remain and the cut is a reported torn tail', async () => {
    for (let cut = 0; cut < image.bytes.length; cut++) {
      const disk = diskWith(image.bytes.subarray(0, cut));
      const wal = await openWal({ dir, durability: 'none', files: disk });
      const before = eventsBefore(image, cut);
      const boundary = image.starts.includes(cut);
      expect(replayed(wal), `cut at ${cut}`).toEqual(before);
      expect(wal.lastSeq).toBe(before.length);
      const validEnd = Math.max(...image.starts.filter((s) => s <= cut));
      expect(wal.recovery.tornTail, `cut at ${cut}`).toEqual(boundary ? undefined : { file: segmentPath, offset: validEnd, bytesCut: cut - validEnd });
      await wal.close();
      expect(disk.size(segmentPath)).toBe(validEnd);
    }
  });

  it('given every single-bit flip in the last two records, when opened, then it is refused naming file and record offset, never cut as a torn tail; and repair keeps the records before it and reports the loss', async () => {
    const from = image.starts[batches.length - 2]!;
    let cases = 0;
    for (let bit = from * 8; bit < image.bytes.length * 8; bit++) {
      const flipped = new Uint8Array(image.bytes);
      flipped[bit >> 3]! ^= 1 << (bit & 7);
      const record = recordAt(image, bit >> 3);
      const recordStart = image.starts[record]!;

      const error = await openError(diskWith(flipped));
      expect(isMnemoError(error, 'WAL_CORRUPT'), `bit ${bit}: ${String(error)}`).toBe(true);
      expect((error as { details: unknown }).details).toMatchObject({ file: segmentPath, offset: recordStart });

      const disk = diskWith(flipped);
      const wal = await openWal({ dir, durability: 'none', files: disk, repair: true });
      const kept = eventsBefore(image, recordStart);
      expect(replayed(wal)).toEqual(kept);
      expect(wal.recovery.tornTail).toBeUndefined();
      const repaired = wal.recovery.repaired?.[0];
      expect(repaired).toMatchObject({ file: segmentPath, offset: recordStart, lostFromSeq: kept.length + 1 });
      expect(Buffer.compare(disk.readFile(repaired!.movedTo), flipped)).toBe(0); // set aside, never deleted
      await wal.close();
      cases++;
    }
    expect(cases).toBe((image.bytes.length - from) * 8);
  });

  it.each([
    { given: 'multi-byte garbage after the last record', tail: () => Buffer.from('not a record, just bytes the disk never synced'), outcome: 'torn' },
    { given: 'a zero-filled tail longer than a header', tail: () => Buffer.alloc(300), outcome: 'torn' },
    { given: 'garbage, then a whole valid record continuing the seq', tail: () => Buffer.concat([Buffer.alloc(40, 0xab), encodeFrame(9, 1, encodePayload([{ seq: 9 }]))]), outcome: 'corrupt' },
    { given: 'a valid record with a seq gap', tail: () => encodeFrame(11, 1, encodePayload([{ seq: 11 }])), outcome: 'corrupt' },
  ])('given $given, when opened, then it is $outcome', async ({ tail, outcome }) => {
    const bytes = Buffer.concat([image.bytes, tail()]);
    const disk = diskWith(bytes);
    const error = await openError(disk);
    if (outcome === 'corrupt') {
      expect(isMnemoError(error, 'WAL_CORRUPT')).toBe(true);
      expect((error as { details: unknown }).details).toMatchObject({ file: segmentPath, offset: image.bytes.length });
      return;
    }
    expect(error).toBeNull();
    expect(disk.size(segmentPath)).toBe(image.bytes.length);
  });

  it('given a length field with a flipped bit, when checked, then the header fails its checksum', () => {
    const frame = encodeFrame(1, 1, encodePayload([{ a: 1 }]));
    for (let bit = 0; bit < 32; bit++) {
      const flipped = Buffer.from(frame);
      flipped[bit >> 3]! ^= 1 << (bit & 7);
      const check = checkFrame(flipped, 0);
      expect(check).toMatchObject({ kind: 'bad', reason: 'header checksum mismatch', oneFlipEnd: frame.length });
    }
  });
});

describe('WAL corruption in a sealed segment (real disk)', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'mnemo-wal-corrupt-'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  /** Three or more segments of small records; returns the sealed segments. */
  async function given(walDir: string): Promise<Array<{ file: string; path: string; firstSeq: number; lastSeq: number }>> {
    const wal = await openWal({ dir: walDir, durability: 'fsync', segmentBytesMax: 1200 });
    for (let seq = 1; seq <= 60; seq += 3) {
      const events = [0, 1, 2].map((i) => ({ ...sevenTypes[(seq + i) % 7]!, seq: seq + i }));
      await wal.append(seq, 3, encodePayload(events));
    }
    const sealed = wal.sealedSegments();
    await wal.close();
    expect(sealed.length).toBeGreaterThanOrEqual(3);
    return sealed;
  }

  it.each([
    { damage: 'a flipped byte in its second record', mutate: (b: Buffer, second: number) => void (b[second + 30]! ^= 0x10), atSecond: true },
    { damage: 'a truncation inside its last record', mutate: () => undefined, atSecond: false },
  ])('given $damage, when opened, then it is refused naming file and offset; with repair it and every later segment are set aside and the loss reported', async ({ mutate, atSecond }) => {
    const walDir = await mkdtemp(join(root, 'wal-'));
    const sealed = await given(walDir);
    const victim = sealed[1]!;
    const bytes = await readFile(victim.path);
    const second = (checkFrame(bytes, 0) as { end: number }).end;
    expect(second + 30).toBeLessThan(bytes.length); // the victim holds several records
    let damagedOffset = second;
    if (atSecond) mutate(bytes, second);
    else {
      let offset = 0;
      for (let check = checkFrame(bytes, 0); check.kind === 'ok'; check = checkFrame(bytes, check.end)) {
        if (check.end === bytes.length) break;
        offset = check.end;
      }
      damagedOffset = offset;
    }
    const damaged = atSecond ? bytes : bytes.subarray(0, bytes.length - 5);
    await writeFile(victim.path, damaged);

    const error = await openWal({ dir: walDir, durability: 'fsync' }).then(
      (wal) => wal.close().then(() => null),
      (e: unknown) => e,
    );
    expect(isMnemoError(error, 'WAL_CORRUPT'), String(error)).toBe(true);
    expect((error as { details: unknown }).details).toMatchObject({ file: victim.path, offset: damagedOffset });
    const verified = await verifyWal(walDir);
    expect(verified.ok).toBe(false);
    expect(verified.problems[0]).toMatchObject({ file: victim.path, offset: damagedOffset });
    const dataDir = join(walDir, '..');
    const walLink = join(dataDir, 'wal');
    await symlink(walDir, walLink);
    expect(await runVerify({ values: { 'data-dir': dataDir }, positionals: [] })).toBe(1);
    await rm(walLink);

    const wal = await openWal({ dir: walDir, durability: 'fsync', repair: true });
    const lostFromSeq = victim.firstSeq + (damagedOffset === second ? 3 : (victim.lastSeq - victim.firstSeq + 1) - 3);
    expect(wal.lastSeq).toBe(lostFromSeq - 1);
    expect(wal.recovery.repaired?.[0]).toMatchObject({ file: victim.path, offset: damagedOffset, lostFromSeq });
    const laterFiles = wal.recovery.repaired!.slice(1).map((r) => r.file);
    expect(laterFiles.length).toBeGreaterThanOrEqual(1);
    expect([...wal.replay()].map((e) => e.seq)).toEqual(Array.from({ length: lostFromSeq - 1 }, (_, i) => i + 1));
    await wal.append(lostFromSeq, 1, encodePayload([{ seq: lostFromSeq }]));
    await wal.close();

    const names = await readdir(walDir);
    for (const repaired of wal.recovery.repaired!) expect(names).toContain(repaired.movedTo.slice(walDir.length + 1));
    expect((await verifyWal(walDir)).ok).toBe(true);
    const reopened = await openWal({ dir: walDir, durability: 'fsync' });
    expect(reopened.lastSeq).toBe(lostFromSeq);
    expect(reopened.recovery.repaired).toBeUndefined();
    await reopened.close();
  });
});
