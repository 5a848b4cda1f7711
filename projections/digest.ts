// Canonical hashing for projection digests: equal logical states hash equally whatever Map insertion
// order or object key order produced them. Used to compare a live projection with one rebuilt by replay
// or loaded from a checkpoint. Slow by design (sorting, JSON per value); never on a hot path.

import { createHash, type Hash } from 'node:crypto';

/** JSON with object keys sorted at every level, so key order does not change the hash. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'undefined';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const keys = Object.keys(value).sort();
  const parts = keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
  return `{${parts.join(',')}}`;
}

/** A sha256 over a sequence of rows, each a canonical-JSON tuple on its own line. */
export class CanonicalHash {
  private readonly hash: Hash = createHash('sha256');

  constructor(label: string) {
    this.hash.update(`${label}\n`);
  }

  row(...fields: unknown[]): void {
    this.hash.update(canonicalJson(fields));
    this.hash.update('\n');
  }

  hex(): string {
    return this.hash.digest('hex');
  }
}

/** Sorted copy of string keys: the order rows are hashed in. */
export function sortedKeys(keys: Iterable<string>): string[] {
  return Array.from(keys).sort();
}
