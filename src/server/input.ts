// Reading request input at the HTTP boundary: query parameters, path parameters and JSON body
// fields, each checked for type and range. A bad one is a VALIDATION_FAILED naming the field
// as the client spelled it (snake_case) and saying what was expected and what arrived.

import { MnemoError, type AsOf, type Direction } from '../index.js';

export type Body = Record<string, unknown>;

export function invalid(field: string, reason: string): MnemoError<'VALIDATION_FAILED'> {
  return new MnemoError('VALIDATION_FAILED', { field, reason });
}

/** Echoes a client's value in a message: quoted, and short. */
export function shown(value: unknown): string {
  const text = typeof value === 'string' ? `'${value}'` : (JSON.stringify(value) ?? String(value));
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}

// ---- path and query ----

/** A path parameter, percent-decoded (ids like `node:person:…` may arrive encoded). */
export function pathParam(raw: string, field: string): string {
  let value: string;
  try {
    value = decodeURIComponent(raw);
  } catch {
    throw invalid(field, `invalid percent-encoding in ${shown(raw)}`);
  }
  if (value === '') throw invalid(field, 'must not be empty');
  return value;
}

export function queryString(query: URLSearchParams, field: string): string | undefined {
  const value = query.get(field);
  return value === null ? undefined : value;
}

export function requiredQueryString(query: URLSearchParams, field: string): string {
  const value = query.get(field);
  if (value === null || value === '') throw invalid(field, 'required query parameter is missing');
  return value;
}

export function queryInt(query: URLSearchParams, field: string, min: number, max: number): number | undefined {
  const raw = query.get(field);
  if (raw === null) return undefined;
  const value = /^-?\d{1,16}$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw invalid(field, `expected an integer ${min}..${max}, got ${shown(raw)}`);
  }
  return value;
}

export function queryDirection(query: URLSearchParams): Direction | undefined {
  const raw = query.get('direction');
  if (raw === null) return undefined;
  if (raw === 'out' || raw === 'in' || raw === 'both') return raw;
  throw invalid('direction', `expected 'out', 'in' or 'both', got ${shown(raw)}`);
}

/** `as_of`: a seq (digits) or an ISO-8601 time. */
export function queryAsOf(query: URLSearchParams, field = 'as_of'): AsOf | undefined {
  const raw = query.get(field);
  if (raw === null) return undefined;
  return asOfValue(raw, field);
}

export function asOfValue(raw: string, field: string): AsOf {
  if (/^\d{1,16}$/.test(raw)) return Number(raw);
  if (/^\d{4}-\d{2}-\d{2}/.test(raw) && !Number.isNaN(Date.parse(raw))) return raw;
  throw invalid(field, `expected a seq or an ISO-8601 time, got ${shown(raw)}`);
}

// ---- JSON body fields ----

export function bodyObject(body: unknown): Body {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw invalid('body', `expected a JSON object, got ${describe(body)}`);
  }
  return body as Body;
}

export function requiredString(body: Body, field: string): string {
  const value = body[field];
  if (typeof value !== 'string' || value === '') throw invalid(field, `expected a non-empty string, got ${describe(value)}`);
  return value;
}

export function optionalString(body: Body, field: string): string | undefined {
  const value = body[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw invalid(field, `expected a string, got ${describe(value)}`);
  return value;
}

export function optionalObject<T = Record<string, unknown>>(body: Body, field: string): T | undefined {
  const value = body[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid(field, `expected an object, got ${describe(value)}`);
  return value as T;
}

export function optionalNumber(body: Body, field: string): number | undefined {
  const value = body[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw invalid(field, `expected a finite number, got ${describe(value)}`);
  return value;
}

export function optionalInt(body: Body, field: string, min: number, max: number): number | undefined {
  const value = body[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalid(field, `expected an integer ${min}..${max}, got ${describe(value)}`);
  }
  return value;
}

export function optionalDirection(body: Body): Direction | undefined {
  const value = body.direction;
  if (value === undefined) return undefined;
  if (value === 'out' || value === 'in' || value === 'both') return value;
  throw invalid('direction', `expected 'out', 'in' or 'both', got ${describe(value)}`);
}

/** A vector of finite numbers; the engine checks the dimension. */
export function optionalVector(body: Body, field: string): number[] | undefined {
  const value = body[field];
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.length === 0) throw invalid(field, `expected a non-empty array of numbers, got ${describe(value)}`);
  for (let i = 0; i < value.length; i++) {
    const x: unknown = value[i];
    if (typeof x !== 'number' || !Number.isFinite(x)) throw invalid(`${field}[${i}]`, `expected a finite number, got ${describe(x)}`);
  }
  return value as number[];
}

/** The type of a value as a client would name it, with the value when it is short. */
export function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${shown(value)}`;
}
