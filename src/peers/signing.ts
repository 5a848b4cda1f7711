// Signed peer requests. The asking machine signs, with its data dir's Ed25519 key, one line per
// part of the request: method, path with query, SHA-256 of the body, timestamp and a random
// nonce. The answering machine, when MNEMO_PEER_TRUST lists keys, checks the signature against
// the listed keys, the timestamp against its clock (peerClockSkewMsMax either way) and the nonce
// against the ones it saw in that window, so a captured request cannot be sent again.

import { createHash, randomBytes, sign, verify, type KeyObject } from 'node:crypto';
import { MnemoError } from '../kernel/errors.js';
import { peerClockSkewMsMax, peerNoncesMax } from '../kernel/limits.js';
import { publicKeyFrom, type PeerIdentity } from './identity.js';

export const peerTrustVariable = 'MNEMO_PEER_TRUST';

/** The four headers a signed request carries (lowercase, as uWebSockets.js reads them). */
export const signatureHeader = {
  key: 'x-mnemo-peer-key',
  timestamp: 'x-mnemo-peer-timestamp',
  nonce: 'x-mnemo-peer-nonce',
  signature: 'x-mnemo-peer-signature',
} as const;

/** Names this format, so a signature made for anything else never verifies as a request. */
const signingContext = 'mnemo-peer-request-v1';
const nonceBytes = 16;

function canonical(method: string, path: string, body: Uint8Array, timestamp: string, nonce: string): Buffer {
  const digest = createHash('sha256').update(body).digest('base64url');
  return Buffer.from([signingContext, method.toUpperCase(), path, digest, timestamp, nonce].join('\n'));
}

/** Headers that sign `method path` with `body` as this identity, now. */
export function signRequest(identity: PeerIdentity, method: string, path: string, body: Uint8Array, nowMs = Date.now()): Record<string, string> {
  const timestamp = String(nowMs);
  const nonce = randomBytes(nonceBytes).toString('base64url');
  const signature = sign(null, canonical(method, path, body, timestamp, nonce), identity.privateKey).toString('base64url');
  return {
    [signatureHeader.key]: identity.publicKey,
    [signatureHeader.timestamp]: timestamp,
    [signatureHeader.nonce]: nonce,
    [signatureHeader.signature]: signature,
  };
}

/** What the verifier needs from a request: read from it before its body arrives. */
export interface SignedRequest {
  method: string;
  /** Path with `?query` when there is one, as the client sent it. */
  path: string;
  key: string;
  timestamp: string;
  nonce: string;
  signature: string;
}

/**
 * Checks /peer/* requests against MNEMO_PEER_TRUST (read per request, so keys can be added or
 * revoked without a restart). One per server: it holds the nonces seen.
 */
export class PeerRequestVerifier {
  private trustText: string | undefined;
  private trusted = new Map<string, KeyObject>();
  /** nonce → the request's timestamp, in arrival order. */
  private readonly nonces = new Map<string, number>();
  /** Requests stamped at or before this are refused: a nonce that old may have been forgotten. */
  private forgottenThroughMs = -Infinity;
  private readonly noncesMax: number;

  /** `noncesMax` defaults to peerNoncesMax; smaller only in tests. */
  constructor(options: { noncesMax?: number } = {}) {
    this.noncesMax = options.noncesMax ?? peerNoncesMax;
  }

  /** True when MNEMO_PEER_TRUST lists keys: /peer/* then needs a valid signature. */
  get enforcing(): boolean {
    this.readTrust();
    return this.trusted.size > 0 || (this.trustText ?? '').trim() !== '';
  }

  /** Null when the request may proceed (trust off, or a valid fresh signature by a listed key); otherwise the 401. */
  verify(request: SignedRequest, body: Uint8Array, nowMs = Date.now()): MnemoError | null {
    if (!this.enforcing) return null;
    if (request.key === '' || request.signature === '' || request.timestamp === '' || request.nonce === '') {
      return refused(`unsigned: expected the headers ${Object.values(signatureHeader).join(', ')}`);
    }
    const key = this.trusted.get(request.key);
    if (key === undefined) return refused('signed by a key that is not listed');
    const timestamp = /^\d{1,16}$/.test(request.timestamp) ? Number(request.timestamp) : NaN;
    if (!(Math.abs(nowMs - timestamp) <= peerClockSkewMsMax)) {
      return refused(`timestamp is more than ${peerClockSkewMsMax / 1000} s from this server's clock (check both clocks)`);
    }
    let valid = false;
    try {
      valid = verify(null, canonical(request.method, request.path, body, request.timestamp, request.nonce), key, Buffer.from(request.signature, 'base64url'));
    } catch {
      valid = false;
    }
    if (!valid) return refused('the signature does not match the request');
    // Checked after the signature, so nobody can fill the nonce memory with requests they cannot sign.
    return this.remember(request.nonce, timestamp, nowMs);
  }

  private remember(nonce: string, timestamp: number, nowMs: number): MnemoError | null {
    if (timestamp <= this.forgottenThroughMs) return refused('too old to be checked against replay; send a fresh request');
    if (this.nonces.has(nonce)) return refused('replayed: this nonce was seen before');
    this.forgetExpired(nowMs);
    if (this.nonces.size >= this.noncesMax) {
      const [oldest, stamped] = this.nonces.entries().next().value as [string, number];
      this.nonces.delete(oldest);
      this.forgottenThroughMs = Math.max(this.forgottenThroughMs, stamped);
    }
    this.nonces.set(nonce, timestamp);
    return null;
  }

  /** A nonce whose timestamp is out of the window can never be accepted again anyway. */
  private forgetExpired(nowMs: number): void {
    for (const [nonce, stamped] of this.nonces) {
      if (nowMs - stamped <= peerClockSkewMsMax) break;
      this.nonces.delete(nonce);
    }
  }

  private readTrust(): void {
    const text = process.env[peerTrustVariable];
    if (text === this.trustText) return;
    this.trustText = text;
    this.trusted = new Map();
    for (const entry of (text ?? '').split(',')) {
      const name = entry.trim();
      const key = publicKeyFrom(name);
      // An entry that is not a key is never matched; the set stays enforcing, so a typo locks out, never in.
      if (key !== null) this.trusted.set(name, key);
    }
  }

  /** Nonces held now (tests). */
  get noncesHeld(): number {
    return this.nonces.size;
  }
}

function refused(reason: string): MnemoError {
  return new MnemoError('PEER_SIGNATURE_REJECTED', { reason, variable: peerTrustVariable });
}
