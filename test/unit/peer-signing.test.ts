// Signed peer requests: given an identity and a verifier trusting some keys, when a request
// arrives signed (or not), then it is let through or refused with the reason.

import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadIdentity, type PeerIdentity } from '../../src/peers/identity.js';
import { PeerRequestVerifier, signRequest, signatureHeader, type SignedRequest } from '../../src/peers/signing.js';

const path = '/peer/api/v1/prime/recall';
const body = new TextEncoder().encode('{"text":"ada","top_k":3}');
let dirs: string[] = [];
let alice: PeerIdentity;
let mallory: PeerIdentity;

async function freshDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'mnemo-identity-'));
  dirs.push(dir);
  return dir;
}

function requestOf(headers: Record<string, string>, method = 'post', signedPath = path): SignedRequest {
  return {
    method,
    path: signedPath,
    key: headers[signatureHeader.key] ?? '',
    timestamp: headers[signatureHeader.timestamp] ?? '',
    nonce: headers[signatureHeader.nonce] ?? '',
    signature: headers[signatureHeader.signature] ?? '',
  };
}

beforeAll(async () => {
  alice = loadIdentity(await freshDir());
  mallory = loadIdentity(await freshDir());
});
afterEach(() => {
  delete process.env.MNEMO_PEER_TRUST;
});
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  dirs = [];
});

describe('identity', () => {
  it('given a new data dir, when the identity is loaded, then a key file of mode 0600 is made and the same key comes back on the next load', async () => {
    const dir = await freshDir();
    const first = loadIdentity(dir);
    expect(first.publicKey).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect((await stat(join(dir, 'identity.key'))).mode & 0o777).toBe(0o600);
    expect(loadIdentity(dir).publicKey).toBe(first.publicKey);
  });
});

describe('verifying', () => {
  it('given MNEMO_PEER_TRUST unset, when an unsigned request arrives, then it passes (reachability is trust)', () => {
    expect(new PeerRequestVerifier().verify(requestOf({}), body)).toBeNull();
  });

  it('given trust in alice, when requests arrive unsigned, signed by another key, stale, replayed or tampered, then each is 401; signed fresh by alice, then it passes', () => {
    process.env.MNEMO_PEER_TRUST = `someoneelse,${alice.publicKey}`;
    const verifier = new PeerRequestVerifier();
    const now = Date.now();
    const valid = signRequest(alice, 'POST', path, body, now);
    const cases: Array<[string, SignedRequest, Uint8Array, number, RegExp | null]> = [
      ['unsigned', requestOf({}), body, now, /unsigned/],
      ['wrong key', requestOf(signRequest(mallory, 'POST', path, body, now)), body, now, /not listed/],
      ['stale', requestOf(signRequest(alice, 'POST', path, body, now - 61_000)), body, now, /60 s/],
      ['from the future', requestOf(signRequest(alice, 'POST', path, body, now + 61_000)), body, now, /60 s/],
      ['other body', requestOf(signRequest(alice, 'POST', path, body, now)), new TextEncoder().encode('{"text":"eve"}'), now, /does not match/],
      ['other path', requestOf(signRequest(alice, 'POST', path, body, now), 'post', '/peer/api/v1/prime/stats'), body, now, /does not match/],
      ['other method', requestOf(signRequest(alice, 'POST', path, body, now), 'get'), body, now, /does not match/],
      ['key swapped in', { ...requestOf(signRequest(mallory, 'POST', path, body, now)), key: alice.publicKey }, body, now, /does not match/],
      ['valid', requestOf(valid), body, now, null],
      ['replayed', requestOf(valid), body, now + 10, /replayed/],
    ];
    for (const [name, request, sentBody, at, expected] of cases) {
      const refusal = verifier.verify(request, sentBody, at);
      if (expected === null) expect(refusal, name).toBeNull();
      else {
        expect(refusal?.status, name).toBe(401);
        expect(refusal?.message, name).toMatch(expected);
      }
    }
  });

  it('given trust set to something that is not a key, when a signed request arrives, then it is refused (a typo locks out, never in)', () => {
    process.env.MNEMO_PEER_TRUST = 'not-a-key';
    expect(new PeerRequestVerifier().verify(requestOf(signRequest(alice, 'POST', path, body)), body)?.status).toBe(401);
  });

  it('given a nonce memory of 3, when 5 requests arrive, then it holds 3, and a request as old as a forgotten one is refused while newer ones pass', () => {
    process.env.MNEMO_PEER_TRUST = alice.publicKey;
    const verifier = new PeerRequestVerifier({ noncesMax: 3 });
    const now = Date.now();
    const first = signRequest(alice, 'POST', path, body, now - 5000);
    expect(verifier.verify(requestOf(first), body, now)).toBeNull();
    for (let i = 4; i >= 1; i--) expect(verifier.verify(requestOf(signRequest(alice, 'POST', path, body, now - i * 1000)), body, now)).toBeNull();
    expect(verifier.noncesHeld).toBe(3);
    // The first nonce was forgotten; its replay must still be refused.
    expect(verifier.verify(requestOf(first), body, now)?.message).toMatch(/too old/);
    expect(verifier.verify(requestOf(signRequest(alice, 'POST', path, body, now)), body, now)).toBeNull();
  });

  it('given nonces older than the clock window, when a new request arrives, then they are forgotten', () => {
    process.env.MNEMO_PEER_TRUST = alice.publicKey;
    const verifier = new PeerRequestVerifier();
    const then = Date.now();
    for (let i = 0; i < 10; i++) expect(verifier.verify(requestOf(signRequest(alice, 'POST', path, body, then)), body, then)).toBeNull();
    expect(verifier.noncesHeld).toBe(10);
    const later = then + 61_000;
    expect(verifier.verify(requestOf(signRequest(alice, 'POST', path, body, later)), body, later)).toBeNull();
    expect(verifier.noncesHeld).toBe(1);
  });
});
