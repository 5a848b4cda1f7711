// One catalogue of every error mnemo raises for a condition (not a bug).
// Each code has a message template saying what was wrong and what to do,
// and the HTTP status the server maps it to.

export const errorCatalogue = {
  VALIDATION_FAILED: { status: 400, message: (d: { field: string; reason: string }) => `${d.field}: ${d.reason}` },
  UNKNOWN_EVENT_TYPE: { status: 400, message: (d: { type: string; field?: string }) => `${d.field ? `${d.field}: ` : ''}unknown event type '${d.type}'; expected one of prime.node.created|updated|deleted, prime.edge.created|deleted, prime.vector.stored|deleted` },
  // Named by a field of an event (an edge to nobody, an update of a deleted node), a missing node is
  // bad input, 400; named by a path or a lookup (no field), it is 404.
  NODE_NOT_FOUND: { status: (d: { field?: string }) => (d.field === undefined ? 404 : 400), message: (d: { id: string; field?: string }) => `${d.field ? `${d.field}: ` : ''}node '${d.id}' does not exist` },
  EDGE_NOT_FOUND: { status: (d: { field?: string }) => (d.field === undefined ? 404 : 400), message: (d: { id: string; field?: string }) => `${d.field ? `${d.field}: ` : ''}edge '${d.id}' does not exist` },
  VECTOR_NOT_FOUND: { status: (d: { field?: string }) => (d.field === undefined ? 404 : 400), message: (d: { id: string; field?: string }) => `${d.field ? `${d.field}: ` : ''}vector '${d.id}' does not exist` },
  ALREADY_EXISTS: { status: 409, message: (d: { id: string; field?: string }) => `${d.field ? `${d.field}: ` : ''}'${d.id}' already exists` },
  EVENT_TOO_LARGE: { status: 413, message: (d: { bytes: number; max: number; index: number }) => `event ${d.index} encodes to ${d.bytes} bytes; the limit is ${d.max}` },
  BATCH_TOO_LARGE: { status: 413, message: (d: { size: number; max: number; unit: string }) => `batch has ${d.size} ${d.unit}; the limit is ${d.max}` },
  WAL_CORRUPT: { status: 500, message: (d: { file: string; offset: number; reason: string }) => `write-ahead log is damaged in ${d.file} at byte ${d.offset}: ${d.reason}. Run 'mnemo verify' for details; to move the damaged segment and every later one aside and go on without their events, start with --repair ('mnemo serve --repair' or 'mnemo verify --repair')` },
  WAL_LOCKED: { status: 503, message: (d: { dir: string; pid?: number }) => `data dir ${d.dir} is locked by another writer${d.pid ? ` (pid ${d.pid})` : ''}; close it first` },
  WAL_CLOSED: { status: 503, message: (_d: Record<string, never>) => 'the write-ahead log is closed' },
  WAL_IO: { status: 503, message: (d: { op: string; reason: string }) => `write-ahead log ${d.op} failed: ${d.reason}; no later append is accepted until the engine is reopened` },
  DISK_FULL: { status: 507, message: (d: { op: string; reason: string }) => `the disk is full: write-ahead log ${d.op} failed (${d.reason}); the failed batch was not applied; appends are refused until the disk takes data again (probed every second), reads go on` },
  CHECKPOINT_CORRUPT: { status: 500, message: (d: { file: string; reason: string }) => `checkpoint ${d.file} is damaged: ${d.reason}` },
  PARQUET_CORRUPT: { status: 500, message: (d: { file: string; reason: string }) => `Parquet file ${d.file} is damaged: ${d.reason}` },
  ENGINE_CLOSED: { status: 503, message: (_d: Record<string, never>) => 'the engine is closed' },
  REPLICATION_REFUSED: { status: 503, message: (d: { reason: string }) => `replication refused writes: ${d.reason}` },
  OVERLOADED: { status: 503, message: (d: { reason: string; retryAfterMs: number }) => `overloaded: ${d.reason}; retry after ${d.retryAfterMs} ms` },
  RATE_LIMITED: { status: 429, message: (d: { retryAfterMs: number }) => `too many requests; retry after ${d.retryAfterMs} ms` },
  // HTTP admission (src/server): who may call, and how large a body may be.
  FORBIDDEN: { status: 403, message: (d: { reason: string }) => d.reason },
  UNAUTHORIZED: { status: 401, message: (d: { variable: string }) => `this server requires its API key as 'Authorization: Bearer <key>' (or 'X-API-Key: <key>'); ${d.variable} is set` },
  PEER_DISABLED: { status: 503, message: (d: { variable: string }) => `peer routes are disabled; set ${d.variable}=1 in the server's environment to serve /peer/*` },
  ROUTE_NOT_FOUND: { status: 404, message: (d: { method: string; path: string }) => `no route for ${d.method} ${d.path}` },
  INSPECTOR_NOT_BUILT: { status: 503, message: (d: { dir: string }) => `the web inspector's files are not in ${d.dir}; run 'npm run build' to build them` },
  // Federation (src/peers): a /peer/* request that is not signed by a trusted key.
  PEER_SIGNATURE_REJECTED: { status: 401, message: (d: { reason: string; variable: string }) => `peer request refused: ${d.reason} (${d.variable} is set: /peer/* answers only requests signed by a listed key)` },
  // Words: the text embedder (src/embed).
  EMBEDDER_UNAVAILABLE: { status: 503, message: (d: { embedder: string; reason: string }) => `embedder ${d.embedder} is unavailable: ${d.reason}` },
  EMBEDDER_MISMATCH: { status: 409, message: (d: { dir: string; remembered: string; given: string }) => `data dir ${d.dir} holds vectors of embedder ${d.remembered}; this process was given ${d.given}. Vectors of two models must not mix: use the same embedder, or a new data dir` },
  EMBEDDER_MISSING: { status: 400, message: (d: { field: string }) => `${d.field}: a text query needs an embedder; start with --embedder URL|local:DIR, or give a vector` },
  BODY_TOO_LARGE: { status: 413, message: (d: { bytes: number; max: number }) => `request body has ${d.bytes} bytes or more; the limit on this route is ${d.max}; send large batches as several requests` },
} as const;

export type ErrorCode = keyof typeof errorCatalogue;
export type ErrorDetails<C extends ErrorCode> = Parameters<(typeof errorCatalogue)[C]['message']>[0];

export class MnemoError<C extends ErrorCode = ErrorCode> extends Error {
  readonly code: C;
  readonly details: ErrorDetails<C>;
  readonly status: number;

  constructor(code: C, details: ErrorDetails<C>, options?: { cause?: unknown }) {
    const entry = errorCatalogue[code];
    super((entry.message as (d: ErrorDetails<C>) => string)(details), options);
    this.name = 'MnemoError';
    this.code = code;
    this.details = details;
    const status = entry.status as number | ((d: unknown) => number);
    this.status = typeof status === 'function' ? status(details) : status;
  }
}

export function mnemoError<C extends ErrorCode>(code: C, details: ErrorDetails<C>, options?: { cause?: unknown }): MnemoError<C> {
  return new MnemoError(code, details, options);
}

export function isMnemoError<C extends ErrorCode>(e: unknown, code?: C): e is MnemoError<C> {
  return e instanceof MnemoError && (code === undefined || e.code === code);
}

/**
 * For a check on bytes read back from a checkpoint: damage there is a condition (open falls back to
 * an older checkpoint or a full replay), not a bug, so it is CHECKPOINT_CORRUPT, never an assert.
 */
export function checkpointCheck(condition: unknown, part: string, reason: string): asserts condition {
  if (!condition) throw mnemoError('CHECKPOINT_CORRUPT', { file: part, reason });
}

/** For impossible states: a bug, not a condition. Crashes loudly. */
export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`assertion failed: ${message}`);
}
