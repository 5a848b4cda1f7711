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

/** Null when the request may proceed; otherwise a 401. `authorization` and `apiKey` are the raw headers (empty when absent). */
export function checkApiKey(url: string, authorization: string, apiKey = ''): Refusal | null {
  // Read per request, like MNEMO_PEER_ENABLED, so a key can be set or rotated by restarting nothing.
  const expected = process.env[apiKeyVariable];
  // The inspector's page and scripts hold no data, and a browser following a link sends no key; the page asks for the key once the API refuses it.
  if (expected === undefined || expected === '' || url === '/health' || isInspectorFile(url)) return null;
  const expectedDigest = digest(expected);
  for (const presented of [/^Bearer\s+(.+)$/i.exec(authorization)?.[1]?.trim() ?? authorization.trim(), apiKey.trim()]) {
    if (presented !== '' && timingSafeEqual(digest(presented), expectedDigest)) return null;
  }
  return new MnemoError('UNAUTHORIZED', { variable: apiKeyVariable });
}
