// Peers answer in the HTTP routes' snake_case; the embedded API speaks camelCase. Keys under
// `properties` and `metadata` are the user's and stay as they are.

const userDataKeys = new Set(['properties', 'metadata']);

export function camelKey(key: string): string {
  return key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** A camelCase copy of a peer's JSON answer. */
export function fromSnakeCase(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map(fromSnakeCase);
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) out[camelKey(key)] = userDataKeys.has(key) ? child : fromSnakeCase(child);
  return out;
}
