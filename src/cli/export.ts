// `mnemo export --format jsonl|parquet|arrow [--out FILE] [--data-dir DIR]`: every event, in seq
// order, from Parquet and the WAL.
//   jsonl    one `{seq, ts, type, payload}` per line (vectors as number arrays); stdout unless --out
//   parquet  the compaction schema (src/parquet/format.ts): payload as JSON text, vectors as a float list; `mnemo import` reads it
//   arrow    Arrow IPC file: seq Int64, ts Int64 (ms), type Utf8, entity_id Utf8, payload Utf8 (JSON),
//            JSON because Arrow consumers (pandas, DuckDB, polars) read it without a msgpack decoder
import { createWriteStream, type WriteStream } from 'node:fs';
import { finished } from 'node:stream/promises';
import { Int64, RecordBatch, RecordBatchFileWriter, Utf8, vectorFromArray, makeData, Struct, Field, Schema } from 'apache-arrow';

import type { StoredEvent } from '../index.js';
import { dataDirOf, flagString, type ParsedArgs } from './args.js';
import { exportParquetFile, openForOperator, publishAtomically } from '../admin.js';
import type { ExportFormat } from './export-formats.js';
import { interrupted } from './interrupt.js';

/** Rows per Arrow record batch: large enough to amortise per-batch overhead, small enough to stream. */
const arrowBatchRows = 65_536;

export async function run(args: ParsedArgs): Promise<number> {
  const format = flagString(args, 'format') as ExportFormat; // required and checked by its declaration
  const out = flagString(args, 'out');
  if (out === undefined && format !== 'jsonl') {
    console.error(`mnemo export: --out FILE is needed for --format ${format}`);
    return 2;
  }
  const engine = await openForOperator(dataDirOf(args));
  try {
    const events = engine.events(1);
    let count: number;
    if (format === 'jsonl') count = await exportJsonl(events, out);
    else if (format === 'parquet') count = exportParquet(events, out!);
    else count = await exportArrow(events, out!);
    // -1: the reader left early and has been told so already.
    if (count >= 0) console.error(`mnemo export: ${count} events${out ? ` to ${out}` : ''}`);
    return 0;
  } finally {
    await engine.close();
  }
}

/** Typed arrays (Float32Array vectors) as plain number arrays, for JSON. */
function typedArraysAsArrays(_key: string, value: unknown): unknown {
  return ArrayBuffer.isView(value) && !(value instanceof DataView) ? Array.from(value as Float32Array) : value;
}

export function eventJson(event: StoredEvent): string {
  return JSON.stringify(event, typedArraysAsArrays);
}

/** The events written, or -1 when the reader closed stdout before the end. */
async function exportJsonl(events: Iterable<StoredEvent>, out: string | undefined): Promise<number> {
  const temp = out === undefined ? undefined : `${out}.tmp`;
  const sink: WriteStream | NodeJS.WriteStream = temp === undefined ? process.stdout : createWriteStream(temp);
  // A reader that stops early (`| head`) closes the pipe: the next write fails with EPIPE, which
  // ends the export quietly; any other write error ends it loudly. Either way run() closes the engine.
  let failure: Error | undefined;
  let readerGone = false;
  sink.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') readerGone = true;
    else failure ??= e;
  });
  let count = 0;
  for (const event of events) {
    if (readerGone || failure !== undefined || interrupted.aborted) break;
    count++;
    // Respect backpressure: a large export must not buffer the whole history in memory.
    if (!sink.write(`${eventJson(event)}\n`)) await drainedOrFailed(sink);
  }
  if (failure !== undefined) throw failure;
  if (interrupted.aborted) {
    // A partial export: --out stays at its temp name, never renamed into place.
    sink.destroy();
    return -1;
  }
  if (readerGone) {
    console.error(`mnemo export: the reader closed the output after ${count} events; stopped`);
    return -1;
  }
  if (temp !== undefined) {
    sink.end();
    await finished(sink);
    publishAtomically(temp, out!);
  }
  return count;
}

/** Resolves when the sink drains, fails, closes, or a signal stops the export (the error itself reaches the sink's own listener). */
function drainedOrFailed(sink: NodeJS.WritableStream): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      sink.off('drain', done);
      sink.off('error', done);
      sink.off('close', done);
      interrupted.removeEventListener('abort', done);
      resolve();
    };
    sink.once('drain', done);
    sink.once('error', done);
    sink.once('close', done);
    interrupted.addEventListener('abort', done, { once: true });
  });
}

function exportParquet(events: Iterable<StoredEvent>, out: string): number {
  return exportParquetFile(events, out);
}

async function exportArrow(events: Iterable<StoredEvent>, out: string): Promise<number> {
  const schema = new Schema([
    new Field('seq', new Int64(), false),
    new Field('ts', new Int64(), false),
    new Field('type', new Utf8(), false),
    new Field('entity_id', new Utf8(), false),
    new Field('payload', new Utf8(), false),
  ]);
  const temp = `${out}.tmp`;
  const writer = new RecordBatchFileWriter();
  const sink = createWriteStream(temp);
  const piped = writer.toNodeStream().pipe(sink);
  writer.reset(undefined, schema);
  let count = 0;
  let rows: StoredEvent[] = [];
  const flush = () => {
    if (rows.length === 0) return;
    writer.write(arrowBatch(schema, rows));
    rows = [];
  };
  for (const event of events) {
    rows.push(event);
    count++;
    if (rows.length === arrowBatchRows) flush();
  }
  flush();
  writer.finish();
  await finished(piped);
  publishAtomically(temp, out);
  return count;
}

function arrowBatch(schema: Schema, rows: StoredEvent[]): RecordBatch {
  const children = [
    vectorFromArray(BigInt64Array.from(rows, (e) => BigInt(e.seq))).data[0]!,
    vectorFromArray(BigInt64Array.from(rows, (e) => BigInt(e.ts))).data[0]!,
    vectorFromArray(rows.map((e) => e.type), new Utf8()).data[0]!,
    vectorFromArray(rows.map((e) => String((e.payload as { id?: unknown }).id ?? '')), new Utf8()).data[0]!,
    vectorFromArray(rows.map(payloadJson), new Utf8()).data[0]!,
  ];
  const data = makeData({ type: new Struct(schema.fields), length: rows.length, nullCount: 0, children });
  return new RecordBatch(schema, data);
}

function payloadJson(event: StoredEvent): string {
  return JSON.stringify(event.payload, typedArraysAsArrays);
}
