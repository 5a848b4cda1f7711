// API-key auth: when MNEMO_API_KEY is set, every route but /health needs the key, as
// `Authorization: Bearer <key>`, or as AllSource Prime's clients also send it, a bare
// `Authorization: <key>` or `X-API-Key: <key>`. Both sides are reduced to HMAC-SHA256
// digests under a per-process random key and compared with timingSafeEqual, so neither
// the comparison time nor the token's length tells an attacker anything. Tokens are
// never logged or echoed.

import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { MnemoError } from '../index.js';
import type { Refusal } from './exposure.js';
import { isInspectorFile } from './inspector.js';

export const apiKeyVariable = 'MNEMO_API_KEY';

/** Random per process: the digests are only ever compared with each other, never stored. */
const digestKey = randomBytes(32);

function digest(value: string): Buffer {
  return createHmac('sha256', digestKey).update(value, 'utf8').digest();
}

/**
 * MNEMO_API_KEY is read again each event-loop turn, so a key can be set or rotated by restarting
 * nothing (like MNEMO_PEER_ENABLED), but not on every request: process.env goes through a C++
 * accessor (0.2 µs a read). The key's digest is kept while the key is the same.
 */
const apiKeyThisTurn: { read: boolean; value: string | undefined; digestOf: string; digest: Buffer } = { read: false, value: undefined, digestOf: '', digest: Buffer.alloc(0) };

function forgetApiKey(): void {
  apiKeyThisTurn.read = false;
}

function currentApiKey(): string | undefined {
  if (!apiKeyThisTurn.read) {
    apiKeyThisTurn.read = true;
    apiKeyThisTurn.value = process.env[apiKeyVariable];
    setImmediate(forgetApiKey);
  }
  return apiKeyThisTurn.value;
}

function digestOfKey(key: string): Buffer {
  if (apiKeyThisTurn.digestOf !== key) {
    apiKeyThisTurn.digest = digest(key);
    apiKeyThisTurn.digestOf = key;
  }
  return apiKeyThisTurn.digest;
}

/**
 * Null when the request may proceed; otherwise a 401. `header` reads a request header (empty when
 * absent); Authorization and X-API-Key are read only when a key is set.
 */
export function checkApiKey(url: string, header: (name: 'authorization' | 'x-api-key') => string): Refusal | null {
  const expected = currentApiKey();
  // The inspector's page and scripts hold no data, and a browser following a link sends no key; the page asks for the key once the API refuses it.
  if (expected === undefined || expected === '' || url === '/health' || isInspectorFile(url)) return null;
  const expectedDigest = digestOfKey(expected);
  const authorization = header('authorization');
  for (const presented of [/^Bearer\s+(.+)$/i.exec(authorization)?.[1]?.trim() ?? authorization.trim(), header('x-api-key').trim()]) {
    if (presented !== '' && timingSafeEqual(digest(presented), expectedDigest)) return null;
  }
  return new MnemoError('UNAUTHORIZED', { variable: apiKeyVariable });
}
