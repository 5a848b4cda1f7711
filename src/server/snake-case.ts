// The engine answers in camelCase; HTTP answers in snake_case (Prime-compatible). One
// function converts every response, so no route spells a key twice. User data is not ours
// to rename: under `properties`, `metadata`, `payload` and the by-type/by-relation counts the
// keys are the caller's and are copied as they are.

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

/** A JSON-ready copy of `value` with snake_case keys; typed arrays (stored vectors) become arrays. */
export function toSnakeCase(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map(toSnakeCase);
  if (ArrayBuffer.isView(value)) return Array.from(value as Float32Array);
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) {
    if (child === undefined) continue;
    // Properties are JSON values already (the engine validated them), so they go out by reference.
    out[snakeKey(key)] = userDataKeys.has(key) ? child : key === payloadKey ? plainData(child) : toSnakeCase(child);
  }
  return out;
}

/** User data keeps its keys; only typed arrays inside it need converting for JSON. */
function plainData(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (ArrayBuffer.isView(value)) return Array.from(value as Float32Array);
  if (Array.isArray(value)) return value.map(plainData);
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) out[key] = plainData(child);
  return out;
}
