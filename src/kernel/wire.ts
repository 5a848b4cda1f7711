// The engine answers in camelCase; HTTP answers in snake_case (Prime-compatible). One
// function converts every response, so no route spells a key twice. User data is not ours
// to rename: under `properties`, `metadata`, `payload` and the by-type/by-relation counts the
// keys are the caller's and are copied as they are.

import type { NodeRecord, Page } from './api.js';

const userDataKeys = new Set(['properties', 'metadata', 'nodesByType', 'edgesByRelation']);
/** An event payload is user data too, but may hold a stored vector as a Float32Array. */
const payloadKey = 'payload';

const cache = new Map<string, string>();
/** The API's own keys number in the dozens; the cap only guards against a future result keyed by ids. */
const cacheEntriesMax = 1024;

export function snakeKey(key: string): string {
  let snake = cache.get(key);
  if (snake === undefined) {
    snake = key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
    if (cache.size < cacheEntriesMax) cache.set(key, snake);
  }
  return snake;
}

/**
 * A node on the wire: Prime's fields under Prime's names and types (`labels`; `created_at` and
 * `updated_at` as RFC 3339 strings) beside mnemo's (`domain`, `version`, and the same two times in
 * epoch ms as `created_at_ms` and `updated_at_ms`). mnemo has no labels: always an empty list.
 */
function nodeWire(node: NodeRecord): Record<string, unknown> {
  return {
    id: node.id,
    type: node.type,
    domain: node.domain,
    labels: noLabels,
    properties: node.properties,
    created_at: new Date(node.createdAt).toISOString(),
    updated_at: new Date(node.updatedAt).toISOString(),
    created_at_ms: node.createdAt,
    updated_at_ms: node.updatedAt,
    version: node.version,
  };
}

const noLabels: readonly string[] = Object.freeze([]);

/** A NodeRecord, possibly with more keys (a neighbour's depth). */
function isNodeLike(value: object): value is NodeRecord {
  return 'version' in value && 'createdAt' in value && 'updatedAt' in value && 'domain' in value && 'properties' in value && 'type' in value;
}

/** A JSON-ready copy of `value` with snake_case keys; typed arrays (stored vectors) become arrays. */
export function toSnakeCase(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map(toSnakeCase);
  if (ArrayBuffer.isView(value)) return Array.from(value as Float32Array);
  if (value instanceof JsonBytes) return JSON.parse(Buffer.from(value.bytes.buffer, value.bytes.byteOffset, value.bytes.byteLength).toString('utf8')) as unknown;
  const node = isNodeLike(value);
  const out: Record<string, unknown> = node ? nodeWire(value) : {};
  for (const [key, child] of Object.entries(value)) {
    if (child === undefined || Object.hasOwn(out, key) || (node && nodeRecordFields.has(key))) continue;
    // Properties are JSON values already (the engine validated them), so they go out by reference.
    out[snakeKey(key)] = userDataKeys.has(key) ? child : key === payloadKey ? plainData(child) : toSnakeCase(child);
  }
  return out;
}

/**
 * A record exactly as the engine builds it (its seven fields, nothing more): an item of a list of
 * them (a neighbours page) is written from its cached JSON alone, with one pass over its keys
 * instead of the general walk's six property checks and its loop looking for extra keys.
 */
function isBareRecord(value: unknown): value is NodeRecord {
  if (typeof value !== 'object' || value === null) return false;
  // Its keys, in the order the engine writes them: one pass, no lookups.
  let at = 0;
  for (const key in value) if (key !== bareRecordKeys[at++]) return false;
  return at === bareRecordKeys.length;
}

const bareRecordKeys: readonly string[] = ['id', 'type', 'domain', 'properties', 'createdAt', 'updatedAt', 'version'];

/** A NodeRecord's own keys: nodeWire writes them. */
const nodeRecordFields = new Set(['id', 'type', 'domain', 'properties', 'createdAt', 'updatedAt', 'version']);

/** User data keeps its keys; only typed arrays inside it need converting for JSON. */
function plainData(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (ArrayBuffer.isView(value)) return Array.from(value as Float32Array);
  if (Array.isArray(value)) return value.map(plainData);
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) out[key] = plainData(child);
  return out;
}

/**
 * A node's JSON is computed once per version of the node and reused. Records are built fresh on
 * every read, so the cache is keyed by the node's properties object, which each version of a node
 * has to itself (validation copies it; an update builds a new one) and which lives exactly as long
 * as that version; the entry also names the id and version it was computed for. Nodes without
 * properties share one frozen empty object and are not cached (their JSON is short). Measured on a
 * neighbors page of 20 nodes: 143 µs through toSnakeCase + JSON.stringify, 2.3 µs with this cache.
 */
const recordJson = new WeakMap<object, NodeJson>();

/** A node version's JSON, and its UTF-8 bytes once an answer has been written as bytes. */
interface NodeJson {
  id: string;
  version: number;
  json: string;
  bytes?: JsonBytes;
}

/**
 * A value already written as JSON, in UTF-8: copied into an answer as it is. Node state keeps one
 * per node version (nodeJsonBytes), so a neighbours page is a concatenation of them.
 */
export class JsonBytes {
  constructor(readonly bytes: Uint8Array) {}
}

/**
 * A page whose rows are wire JSON already (neighbours at depth 1), `pageFromSlice`'s fields in its
 * order. An answer writes it field by field: walking its keys as any object's (each key looked up,
 * converted, checked against the user-data keys) was ~1.4 µs of a ~25 µs neighbours request.
 */
export class JsonPage implements Page<JsonBytes> {
  readonly returned: number;
  declare nextOffset?: number;
  declare degraded?: boolean;

  constructor(
    readonly nodes: JsonBytes[],
    readonly total: number,
    readonly offset: number,
  ) {
    this.returned = nodes.length;
    const next = offset + nodes.length;
    if (next < total) this.nextOffset = next;
  }
}

function writeJsonPage(page: JsonPage, sink: JsonSink): void {
  sink.text('{"nodes":[');
  const { nodes } = page;
  for (let i = 0; i < nodes.length; i++) sink.bytes(nodes[i]!, i > 0);
  let tail = `],"total":${page.total},"returned":${page.returned},"offset":${page.offset}`;
  if (page.nextOffset !== undefined) tail += `,"next_offset":${page.nextOffset}`;
  if (page.degraded !== undefined) tail += `,"degraded":${page.degraded}`;
  sink.text(`${tail}}`);
}

function bytesOf(node: NodeJson): JsonBytes {
  return (node.bytes ??= new JsonBytes(Buffer.from(node.json, 'utf8')));
}

/** A node's wire JSON (what an answer holding the record writes for it) as UTF-8, shared with the per-version cache above. */
export function nodeJsonBytes(record: NodeRecord): JsonBytes {
  return bytesOf(nodeJson(record));
}

function nodeJson(record: NodeRecord): NodeJson {
  const key = record.properties;
  const cacheable = !Object.isFrozen(key);
  const cached = cacheable ? recordJson.get(key) : undefined;
  if (cached !== undefined && cached.version === record.version && cached.id === record.id) return cached;
  const entry: NodeJson = { id: record.id, version: record.version, json: JSON.stringify(nodeWire(record)) };
  if (cacheable) recordJson.set(key, entry);
  return entry;
}

/** A node's JSON, with any keys beyond a NodeRecord's (a neighbour's depth) appended. */
function writeNodeLike(value: NodeRecord, sink: JsonSink): void {
  const node = nodeJson(value);
  let extra = '';
  for (const key in value) {
    if (nodeRecordFields.has(key)) continue;
    const child = (value as unknown as Record<string, unknown>)[key];
    if (child !== undefined) extra += `,${keyJson(key)}${toSnakeJson(child)}`;
  }
  if (extra === '') {
    sink.node(node, false);
  } else {
    sink.node(node, true);
    sink.text(`${extra}}`);
  }
}

const keyJsonCache = new Map<string, string>();

/** `"snake_key":` for a key of the API's own, cached like snakeKey (the same few dozen keys on every answer). */
function keyJson(key: string): string {
  let json = keyJsonCache.get(key);
  if (json === undefined) {
    json = `${JSON.stringify(snakeKey(key))}:`;
    if (keyJsonCache.size < cacheEntriesMax) keyJsonCache.set(key, json);
  }
  return json;
}

/**
 * A row of a hot answer that writes its own snake_case JSON, so toSnakeJson need not walk its keys
 * (a vector search's hits). Its own enumerable fields are what toSnakeCase and JSON.stringify see.
 */
export abstract class OwnJson {
  /** Exactly what toSnakeJson would write for the row's fields. */
  abstract snakeJson(): string;
}

/**
 * `JSON.stringify(text)` for a string: quoted as it is when nothing in it needs escaping (no quote,
 * backslash, control character or surrogate), the usual id, which skips JSON.stringify's ~0.12 µs
 * call (a search answer quotes ten ids).
 */
export function stringJson(text: string): string {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || (c >= 0xd800 && c <= 0xdfff)) return JSON.stringify(text);
  }
  return `"${text}"`;
}

/** A number as toSnakeJson writes it: non-finite numbers are null, as in JSON.stringify. */
export function numberJson(value: number): string {
  return Number.isFinite(value) ? String(value) : 'null';
}

/**
 * Where a walk writes its JSON: text pieces, a node version's cached JSON (without its closing
 * brace when more keys follow), and JSON already in bytes (after a comma when it follows another
 * item of a list).
 */
interface JsonSink {
  text(piece: string): void;
  node(node: NodeJson, open: boolean): void;
  bytes(json: JsonBytes, comma: boolean): void;
}

/** Collects the pieces and joins them once: a chain of += leaves a rope that the socket write must flatten. */
class StringSink implements JsonSink {
  readonly parts: string[] = [];

  text(piece: string): void {
    this.parts.push(piece);
  }

  node(node: NodeJson, open: boolean): void {
    this.parts.push(open ? node.json.slice(0, -1) : node.json);
  }

  bytes(json: JsonBytes, comma: boolean): void {
    if (comma) this.parts.push(',');
    this.parts.push(Buffer.from(json.bytes.buffer, json.bytes.byteOffset, json.bytes.byteLength).toString('utf8'));
  }
}

/** Up to this many chars (the comma between nodes, a key), text is copied in a loop rather than by Buffer.write (~0.1 µs a call). */
const shortPieceChars = 32;
const commaByte = 0x2c;

/**
 * Writes UTF-8 into a buffer: text gathers into one string written at once, and a node's cached
 * bytes are copied in rather than joined into a string and encoded again on every answer. A
 * neighbours page of 23 nodes (walk and encode, 6 KB) took 3.8 µs against 4.3 µs as text at best, 25
 * against 31 µs at the median of 100 rounds in a loaded process, with less garbage. An answer
 * that outgrows the buffer carries on as a string.
 */
class BufferSink implements JsonSink {
  private at = 0;
  private pending = '';
  /** Set once the answer has outgrown the buffer: everything so far as text, then the rest. */
  private spilled: StringSink | undefined;

  /**
   * The buffer's size, read once. Node 20's V8 does not inline a typed array's `byteLength` getter
   * (~15 ns a read through a generic property load), while `length` is inlined: every size below is
   * a `length`, which for bytes is the same number. Measured: 20% of a neighbours answer's
   * serialization was those loads.
   */
  private readonly capacity: number;

  constructor(private readonly buffer: Buffer) {
    this.capacity = buffer.length;
  }

  text(piece: string): void {
    if (this.spilled !== undefined) this.spilled.text(piece);
    // A short piece with nothing waiting (a key, a number, a bracket) goes straight in: no string
    // joined and no native write for it at the end.
    else if (this.pending !== '' || piece.length > shortPieceChars || piece.length > this.capacity - this.at || !this.writeAscii(piece)) this.pending += piece;
  }

  node(node: NodeJson, open: boolean): void {
    if (!open) return this.bytes(bytesOf(node), false);
    if (this.spilled !== undefined) return this.spilled.node(node, open);
    this.flush();
    const { bytes } = bytesOf(node);
    if (this.spilled === undefined && this.at + bytes.length - 1 <= this.capacity) {
      this.buffer.set(bytes.subarray(0, bytes.length - 1), this.at);
      this.at += bytes.length - 1;
      return;
    }
    (this.spilled ?? this.spill()).node(node, open);
  }

  bytes(json: JsonBytes, comma: boolean): void {
    if (this.spilled !== undefined) return this.spilled.bytes(json, comma);
    if (this.pending !== '') this.flush();
    const { bytes } = json;
    const at = comma ? this.at + 1 : this.at;
    if (this.spilled === undefined && at + bytes.length <= this.capacity) {
      if (comma) this.buffer[this.at] = commaByte;
      this.buffer.set(bytes, at);
      this.at = at + bytes.length;
      return;
    }
    (this.spilled ?? this.spill()).bytes(json, comma);
  }

  /** The answer: a view of the buffer, or a string when it did not fit. */
  finish(): Buffer | string {
    this.flush();
    return this.spilled !== undefined ? this.spilled.parts.join('') : this.buffer.subarray(0, this.at);
  }

  private flush(): void {
    if (this.pending === '' || this.spilled !== undefined) return;
    const room = this.capacity - this.at;
    if (this.pending.length <= shortPieceChars && this.pending.length <= room && this.writeAscii(this.pending)) {
      this.pending = '';
      return;
    }
    // UTF-8 takes at most 3 bytes per UTF-16 unit; only near the end is the exact length worth computing.
    if (this.pending.length * 3 <= room || Buffer.byteLength(this.pending, 'utf8') <= room) {
      this.at += this.buffer.write(this.pending, this.at, 'utf8');
      this.pending = '';
    } else {
      this.spill();
    }
  }

  /** Copies `text` byte by byte if it is ASCII (then true): the ',' between two nodes needs no native call. */
  private writeAscii(text: string): boolean {
    for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return false;
    for (let i = 0; i < text.length; i++) this.buffer[this.at + i] = text.charCodeAt(i);
    this.at += text.length;
    return true;
  }

  private spill(): StringSink {
    const sink = new StringSink();
    sink.text(this.buffer.toString('utf8', 0, this.at));
    sink.text(this.pending);
    this.pending = '';
    this.spilled = sink;
    return sink;
  }
}

/** JSON text of `toSnakeCase(value)`, reusing the cached JSON of node records. */
export function toSnakeJson(value: unknown): string {
  if (typeof value === 'number') return numberJson(value);
  if (typeof value !== 'object' || value === null) return JSON.stringify(value) ?? 'null';
  if (value instanceof OwnJson) return value.snakeJson();
  const sink = new StringSink();
  writeSnakeJson(value, sink);
  return sink.parts.join('');
}

/**
 * toSnakeJson's text as UTF-8 in `buffer` (a view of it is returned), or as a string when it does
 * not fit. The buffer is overwritten: use the answer before the next call.
 */
export function snakeJsonInto(value: unknown, buffer: Buffer): Buffer | string {
  const sink = new BufferSink(buffer);
  writeSnakeJson(value, sink);
  return sink.finish();
}

function writeSnakeJson(value: unknown, sink: JsonSink): void {
  if (typeof value === 'number') return sink.text(numberJson(value));
  if (typeof value !== 'object' || value === null) return sink.text(JSON.stringify(value) ?? 'null');
  if (Array.isArray(value)) {
    sink.text('[');
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (item instanceof JsonBytes) {
        sink.bytes(item, i > 0);
        continue;
      }
      if (isBareRecord(item)) {
        sink.bytes(bytesOf(nodeJson(item)), i > 0);
        continue;
      }
      if (i > 0) sink.text(',');
      writeSnakeJson(item, sink);
    }
    return sink.text(']');
  }
  if (value instanceof JsonPage) return writeJsonPage(value, sink);
  if (value instanceof OwnJson) return sink.text(value.snakeJson());
  if (value instanceof JsonBytes) return sink.bytes(value, false);
  if (ArrayBuffer.isView(value)) return sink.text(JSON.stringify(toSnakeCase(value)));
  if (isNodeLike(value)) return writeNodeLike(value, sink);
  let first = true;
  sink.text('{');
  for (const key in value) {
    const child = (value as Record<string, unknown>)[key];
    if (child === undefined || !Object.hasOwn(value, key)) continue;
    sink.text(first ? keyJson(key) : `,${keyJson(key)}`);
    first = false;
    if (userDataKeys.has(key)) sink.text(JSON.stringify(child));
    else if (key === payloadKey) sink.text(JSON.stringify(plainData(child)));
    else writeSnakeJson(child, sink);
  }
  sink.text('}');
}

/** A result sent as is (not JSON): /metrics, and extra routes that speak another format. */
export class RawResult {
  constructor(
    readonly contentType: string,
    readonly body: string | Uint8Array,
    readonly status = 200,
    /** Extra response headers (caching, redirects). */
    readonly headers?: Readonly<Record<string, string>>,
  ) {}
}
