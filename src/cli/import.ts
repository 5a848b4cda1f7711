// `mnemo import FILE [--data-dir DIR]`: appends the events of a JSONL or Parquet file through the
// normal append path, so every event is validated exactly as an API call would be.
//   JSONL    one event a line: `{type, payload}`, or an exported `{seq, ts, type, payload}` (seq and
//            ts are ignored: the data dir assigns its own). Blank lines are skipped.
//   Parquet  a file in the compaction/export schema (src/engine/compaction.ts), detected by its magic bytes.
// Events go in batches of importBatchEvents; each batch is atomic. A bad line stops the import with
// an error naming it: every batch before it is applied, the events of its batch before it are
// applied one by one, and nothing from it on is. A progress bar goes to stderr when it is a terminal.
import { closeSync, openSync, readSync, statSync, createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';

import { isMnemoError } from '../index.js';
import { dataDirOf, type ParsedArgs } from './args.js';
import { openForOperator, readParquetEvents, type Engine } from '../admin.js';
import { interrupted } from './interrupt.js';

/** Events per append: large batches amortise the fsync; 1,000 stays far below batchEventsMax and batchBytesMax for typical events. */
export const importBatchEvents = 1_000;
/** Progress redraws at most this often, in ms. */
const progressEveryMs = 100;

interface Numbered {
  line: number;
  event: unknown;
}

export class ImportError extends Error {}

export async function run(args: ParsedArgs): Promise<number> {
  const file = args.positionals[0]!; // required by its declaration in commands.ts
  // Before the data dir is opened, so a missing file leaves nothing to release.
  const progress = new Progress(statSync(file).size);
  const engine = await openForOperator(dataDirOf(args));
  try {
    const imported = isParquet(file) ? await importParquet(engine, file, progress) : await importJsonl(engine, file, progress);
    progress.done();
    console.error(`mnemo import: ${imported} events from ${file}; last seq ${engine.stats().lastSeq}`);
    return 0;
  } catch (e) {
    progress.done();
    if (e instanceof ImportError) {
      console.error(`mnemo import: ${e.message}`);
      return 1;
    }
    throw e;
  } finally {
    await engine.close();
  }
}

function isParquet(file: string): boolean {
  const fd = openSync(file, 'r');
  try {
    const magic = Buffer.alloc(4);
    return readSync(fd, magic, 0, 4, 0) === 4 && magic.toString('latin1') === 'PAR1';
  } finally {
    closeSync(fd);
  }
}

async function importJsonl(engine: Engine, file: string, progress: Progress): Promise<number> {
  const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  let batch: Numbered[] = [];
  let imported = 0;
  let lineNumber = 0;
  let bytes = 0;
  for await (const text of lines) {
    if (interrupted.aborted) break;
    lineNumber++;
    bytes += Buffer.byteLength(text) + 1;
    if (text.trim() === '') continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      imported += await appendBatch(engine, batch);
      throw new ImportError(`line ${lineNumber}: not JSON (${(e as Error).message}); ${imported} events before it were imported, none after`);
    }
    batch.push({ line: lineNumber, event: rawEvent(parsed) });
    if (batch.length === importBatchEvents) {
      imported += await appendBatch(engine, batch);
      batch = [];
      progress.update(bytes, imported);
    }
  }
  imported += await appendBatch(engine, batch);
  progress.update(bytes, imported);
  return imported;
}

async function importParquet(engine: Engine, file: string, progress: Progress): Promise<number> {
  const events = readParquetEvents(file);
  const total = statSync(file).size;
  let imported = 0;
  for (let i = 0; i < events.length && !interrupted.aborted; i += importBatchEvents) {
    const batch = events.slice(i, i + importBatchEvents).map((event, j) => ({ line: i + j + 1, event: rawEvent(event) }));
    imported += await appendBatch(engine, batch, 'row');
    progress.update(Math.round((total * (i + batch.length)) / events.length), imported);
  }
  return imported;
}

/** An exported or stored event keeps only what append takes. */
function rawEvent(value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const { type, payload } = value as { type?: unknown; payload?: unknown };
  return { type, payload };
}

/**
 * Appends one batch. When the batch is refused, its events are appended one by one up to the
 * offending one, so the error can name its line and everything before it is in.
 */
async function appendBatch(engine: Engine, batch: Numbered[], unit = 'line'): Promise<number> {
  if (batch.length === 0) return 0;
  try {
    await engine.append(batch.map((b) => b.event));
    return batch.length;
  } catch (e) {
    if (!isMnemoError(e)) throw e;
  }
  let applied = 0;
  for (const { line, event } of batch) {
    try {
      await engine.append([event]);
      applied++;
    } catch (e) {
      if (!isMnemoError(e)) throw e;
      const message = e.message.replace(/^events\[0\]/, 'event');
      throw new ImportError(`${unit} ${line}: ${message} (${e.code}); the events before it were imported, none after`);
    }
  }
  return applied;
}

/** A one-line progress bar on stderr, only when stderr is a terminal. */
class Progress {
  private readonly total: number;
  private readonly enabled = process.stderr.isTTY === true;
  private lastDrawn = 0;

  constructor(totalBytes: number) {
    this.total = Math.max(1, totalBytes);
  }

  update(bytes: number, events: number): void {
    if (!this.enabled || performance.now() - this.lastDrawn < progressEveryMs) return;
    this.lastDrawn = performance.now();
    const width = 30;
    const fraction = Math.min(1, bytes / this.total);
    const filled = Math.round(fraction * width);
    process.stderr.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(fraction * 100).toFixed(0).padStart(3)}% ${events.toLocaleString('en-US')} events`);
  }

  done(): void {
    if (this.enabled && this.lastDrawn > 0) process.stderr.write('\n');
  }
}
