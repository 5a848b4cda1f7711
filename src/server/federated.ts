// The two body fields that make a query federated: `peers` (true, or a list of peer names) and
// `deadline_ms`. Either one turns the answer into {results, peers, degraded}; neither leaves the
// route's answer as it always was.

import type { FederatedOptions, PeerSelection } from '../index.js';
import { describe, invalid, optionalInt, type Body } from './input.js';
import { limits } from '../index.js';

/** `{peers, deadlineMs}` when the body asks for a federated answer, else undefined. */
export function federatedOptions(body: Body): FederatedOptions | undefined {
  const peers = peerSelection(body.peers);
  const deadlineMs = optionalInt(body, 'deadline_ms', 1, limits.peerDeadlineMsMax);
  if (peers === undefined && deadlineMs === undefined) return undefined;
  return deadlineMs === undefined ? { peers: peers ?? [] } : { peers: peers ?? [], deadlineMs };
}

function peerSelection(value: unknown): PeerSelection | undefined {
  if (value === undefined || value === false) return value === false ? [] : undefined;
  if (value === true) return true;
  if (Array.isArray(value) && value.length <= limits.peersMax) {
    value.forEach((name, i) => {
      if (typeof name !== 'string' || name === '') throw invalid(`peers[${i}]`, `expected a peer name, got ${describe(name)}`);
    });
    return value as string[];
  }
  throw invalid('peers', `expected true, false or a list of at most ${limits.peersMax} peer names, got ${describe(value)}`);
}
