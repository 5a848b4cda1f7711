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
    peers.push({ name: entry.slice(0, eq), url: entry.slice(eq + 1) });
  }
  return peers;
}
