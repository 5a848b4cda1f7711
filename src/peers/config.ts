// Naming peers: `--peer NAME=URL` (repeatable) and MNEMO_PEERS=name=url,name=url.

import type { PeerConfig } from '../kernel/api.js';

export const peersVariable = 'MNEMO_PEERS';

/** `name=url` entries (from flags, or the variable split at commas), or a message naming the bad one. */
export function parsePeerList(entries: readonly string[], source: string): PeerConfig[] | string {
  const peers: PeerConfig[] = [];
  for (const raw of entries) {
    const entry = raw.trim();
    if (entry === '') continue;
    const eq = entry.indexOf('=');
    if (eq <= 0 || eq === entry.length - 1) return `${source}: expected NAME=URL, got '${entry}'`;
    const peer = { name: entry.slice(0, eq), url: entry.slice(eq + 1) };
    const problem = peerProblem(peer);
    if (problem !== null) return `${source}: ${problem}`;
    peers.push(peer);
  }
  return peers;
}

/** A peer's name: what `--peer NAME=URL` and `"peers": [names]` use. */
const peerNamePattern = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/** What is wrong with a peer's name or URL, or null. */
export function peerProblem(peer: PeerConfig): string | null {
  if (!peerNamePattern.test(peer.name)) return `peer name '${peer.name}' must be letters, digits, '_', '.' or '-' (at most 64)`;
  let url: URL;
  try {
    url = new URL(peer.url);
  } catch {
    return `peer '${peer.name}': '${peer.url}' is not a URL`;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `peer '${peer.name}': expected an http:// or https:// URL, got '${peer.url}'`;
  return null;
}
