// A data dir's identity: an Ed25519 key pair made at first start. The private key never leaves
// the file (mode 0600, written atomically so a crash cannot leave half a key); the public key,
// printed by `mnemo identity`, is what other machines list in MNEMO_PEER_TRUST.

import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { replaceAtomically } from '../storage/atomic.js';
import { nodeFiles, type FileLayer } from '../storage/files.js';

export const identityFileName = 'identity.key';

export interface PeerIdentity {
  /** The raw 32-byte public key, base64url (43 characters): the form MNEMO_PEER_TRUST lists. */
  publicKey: string;
  privateKey: KeyObject;
}

/** Only the owner may read the private key. */
const privateKeyFileMode = 0o600;

/** The file layer, with new files created owner-only from the first byte (no window where the key is world-readable). */
const ownerOnlyFiles: FileLayer = { ...nodeFiles, createNew: (path) => openSync(path, 'wx+', privateKeyFileMode) };

/** This data dir's identity, created (and made durable) if it has none yet. */
export function loadIdentity(dataDir: string): PeerIdentity {
  const path = join(dataDir, identityFileName);
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    const { privateKey } = generateKeyPairSync('ed25519');
    pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    replaceAtomically(path, [Buffer.from(pem)], ownerOnlyFiles);
  }
  const privateKey = createPrivateKey(pem);
  return { publicKey: publicKeyText(createPublicKey(privateKey)), privateKey };
}

export function publicKeyText(key: KeyObject): string {
  const jwk = key.export({ format: 'jwk' });
  if (typeof jwk.x !== 'string') throw new Error('assertion failed: an Ed25519 public key exports its x coordinate');
  return jwk.x;
}

/** A listed public key (base64url of the raw 32 bytes), or null when the text is not one. */
export function publicKeyFrom(text: string): KeyObject | null {
  if (!/^[A-Za-z0-9_-]{43}$/.test(text)) return null;
  try {
    return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: text }, format: 'jwk' });
  } catch {
    return null;
  }
}
