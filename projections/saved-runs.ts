// A projection's saved state with its typed-array columns kept out of the msgpack encoding. The
// state is packed with each column replaced by a reference, and the columns' own bytes follow the
// packed head as runs of their own: a checkpoint writes the runs one after another, so a save never
// copies its columns into one growing buffer. At 800K events that copy was a third of adjacency's
// save (~70 ms of 19 MB, most of it fresh pages) and all of one event-loop turn.
//
// Layout: head length (u32, little-endian) | head | zero padding to a multiple of 8 | run 0 |
// padding | run 1 | … The head is the msgpack of { value, runs: [[type, length], …] }, where in
// `value` a column is { [runKey]: its run's index }. Columns are the typed arrays of at least
// runBytesMin found in the value's plain objects (nested ones too), and every item of its arrays
// that hold only typed arrays; everything else is packed as it is.

import type { Packr } from 'msgpackr';

import { assert, checkpointCheck } from '../src/kernel/errors.js';

/** A projection's saved bytes: one piece, or runs written one after another (the checkpoint joins them). */
export type SavedBytes = Uint8Array | readonly Uint8Array[];

/** Smaller typed arrays are packed into the head: a run of its own saves nothing below a few pages. */
const runBytesMin = 4096;
const runKey = '\u0000run';
const runAlignment = 8;
const zeros = new Uint8Array(runAlignment);

type Column = Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array | Float32Array | Float64Array;
type ColumnType = new (buffer: ArrayBufferLike, byteOffset: number, length: number) => Column;

const columnTypes: Readonly<Record<string, ColumnType>> = { Int8Array, Uint8Array, Int16Array, Uint16Array, Int32Array, Uint32Array, Float32Array, Float64Array };

function columnTypeName(column: ArrayBufferView): string {
  for (const name in columnTypes) if (column instanceof columnTypes[name]!) return name;
  assert(false, `saved runs: ${column.constructor.name} is not a column type`);
}

function isColumnType(value: unknown): value is Column {
  return ArrayBuffer.isView(value) && !(value instanceof DataView);
}

function isColumn(value: unknown): value is Column {
  return isColumnType(value) && value.byteLength >= runBytesMin;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

function reference(column: Column, runs: Column[]): Record<string, number> {
  runs.push(column);
  return { [runKey]: runs.length - 1 };
}

/** `value` with its columns replaced by references to `runs`, where they are appended. */
function withReferences(value: unknown, runs: Column[]): unknown {
  if (isColumn(value)) return reference(value, runs);
  // An array of typed arrays (packed chunks, say) is all runs, whatever their sizes.
  if (Array.isArray(value)) return value.length > 0 && value.every((item) => isColumnType(item)) ? value.map((item: Column) => reference(item, runs)) : value;
  if (!isPlainObject(value)) return value;
  const copy: Record<string, unknown> = {};
  for (const key in value) copy[key] = withReferences(value[key], runs);
  return copy;
}

/** `value` with each reference replaced by its column, read from `columns`. */
function withColumns(value: unknown, columns: readonly Column[], part: string): unknown {
  if (Array.isArray(value)) return value.length > 0 && value.every((item) => isPlainObject(item) && runKey in item) ? value.map((item: Record<string, unknown>) => withColumns(item, columns, part)) : value;
  if (!isPlainObject(value)) return value;
  if (runKey in value) {
    const column = columns[value[runKey] as number];
    checkpointCheck(column !== undefined, part, 'a reference to a run that is not there');
    return column;
  }
  for (const key in value) value[key] = withColumns(value[key], columns, part);
  return value;
}

/** `value` packed with `codec`, its columns as runs of their own (see the layout above). */
export function packWithRuns(codec: Packr, value: object): Uint8Array[] {
  const columns: Column[] = [];
  const referenced = withReferences(value, columns);
  const head = codec.pack({ value: referenced, runs: columns.map((column) => [columnTypeName(column), column.length]) });
  const length = new Uint8Array(4);
  new DataView(length.buffer).setUint32(0, head.byteLength, true);
  const parts: Uint8Array[] = [length, head];
  let at = length.byteLength + head.byteLength;
  for (const column of columns) {
    const padding = (runAlignment - (at % runAlignment)) % runAlignment;
    if (padding > 0) parts.push(zeros.subarray(0, padding));
    parts.push(new Uint8Array(column.buffer, column.byteOffset, column.byteLength));
    at += padding + column.byteLength;
  }
  return parts;
}

/**
 * The value packWithRuns packed, from the checkpoint part `part` (named in CHECKPOINT_CORRUPT).
 * Each column is a view of `bytes` where its alignment allows (a copy where it does not): the
 * loader copies what it keeps.
 */
export function unpackWithRuns(codec: Packr, bytes: Uint8Array, part: string): unknown {
  checkpointCheck(bytes.byteLength >= 4, part, 'shorter than its head length');
  const headLength = new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, true);
  checkpointCheck(4 + headLength <= bytes.byteLength, part, 'its head runs past the end');
  const head = codec.unpack(bytes.subarray(4, 4 + headLength)) as { value: unknown; runs: Array<[string, number]> };
  checkpointCheck(isPlainObject(head) && Array.isArray(head.runs), part, 'its head is not { value, runs }');
  const columns: Column[] = [];
  let at = 4 + headLength;
  for (const [typeName, length] of head.runs) {
    const type = columnTypes[typeName];
    checkpointCheck(type !== undefined && Number.isInteger(length) && length >= 0, part, `a run of ${String(length)} ${String(typeName)}`);
    const elementBytes = (type as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
    at += (runAlignment - (at % runAlignment)) % runAlignment;
    const byteLength = length * elementBytes;
    checkpointCheck(at + byteLength <= bytes.byteLength, part, 'a run past the end');
    const offset = bytes.byteOffset + at;
    columns.push(offset % elementBytes === 0 ? new type(bytes.buffer, offset, length) : new type(bytes.slice(at, at + byteLength).buffer, 0, length));
    at += byteLength;
  }
  checkpointCheck(at === bytes.byteLength, part, 'bytes after the last run');
  return withColumns(head.value, columns, part);
}

/** The saved bytes as one piece (what a checkpoint's file holds, and what load() reads). */
export function joinedBytes(saved: SavedBytes): Uint8Array {
  return saved instanceof Uint8Array ? saved : Buffer.concat(saved);
}
