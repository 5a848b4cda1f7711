// Query option checking shared by every read: bad options are a VALIDATION_FAILED naming the
// option, never a silent clamp (a caller asking for limit 10,000 should learn the limit is 500).

import { mnemoError } from '../kernel/errors.js';
import { dimensionMismatch } from '../kernel/events.js';
import { efSearchMax, pageLimitDefault, pageLimitMax, pageOffsetMax, topKMax, traversalDepthMax } from '../kernel/limits.js';

export function intOption(value: unknown, field: string, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw mnemoError('VALIDATION_FAILED', { field, reason: `expected an integer ${min}..${max}, got ${JSON.stringify(value) ?? String(value)}` });
  }
  return value;
}

/** Page size: 1..500, default 50. */
export function limitOption(value: unknown): number {
  return intOption(value, 'limit', 1, pageLimitMax, pageLimitDefault);
}

export function offsetOption(value: unknown): number {
  return intOption(value, 'offset', 0, pageOffsetMax, 0);
}

export function depthOption(value: unknown, fallback: number): number {
  return intOption(value, 'depth', 1, traversalDepthMax, fallback);
}

/** A query's HNSW candidate list size, or undefined for the index's default. */
export function efOption(value: unknown): number | undefined {
  return value === undefined ? undefined : intOption(value, 'ef', 1, efSearchMax, 0);
}

export function topKOption(value: unknown, fallback: number): number {
  return intOption(value, 'topK', 1, topKMax, fallback);
}

export function directionOption(value: unknown, fallback: 'out' | 'in' | 'both'): 'out' | 'in' | 'both' {
  if (value === undefined) return fallback;
  if (value === 'out' || value === 'in' || value === 'both') return value;
  throw mnemoError('VALIDATION_FAILED', { field: 'direction', reason: `expected 'out', 'in' or 'both', got ${JSON.stringify(value)}` });
}

/** A query vector: finite numbers, and the data dir's dimension once one is fixed. */
export function vectorOption(value: unknown, dim: number | undefined, field: string): Float32Array | readonly number[] {
  if (!(value instanceof Float32Array) && !Array.isArray(value)) {
    throw mnemoError('VALIDATION_FAILED', { field, reason: 'expected an array of numbers' });
  }
  if (dim !== undefined && value.length !== dim) {
    throw mnemoError('VALIDATION_FAILED', { field, reason: dimensionMismatch(dim, value.length) });
  }
  for (let i = 0; i < value.length; i++) {
    const x = value[i];
    if (typeof x !== 'number' || !Number.isFinite(x)) {
      throw mnemoError('VALIDATION_FAILED', { field: `${field}[${i}]`, reason: 'expected a finite number' });
    }
  }
  return value as Float32Array | readonly number[];
}
