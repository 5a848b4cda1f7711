// The two body fields that make a query federated: `peers` (true, or a list of peer names) and
// `deadline_ms`. Either one turns the answer into {results, peers, degraded}; neither leaves the
// route's answer as it always was. The request schemas (src/kernel/requests.ts) have checked them.

import type { FederatedOptions } from '../index.js';

/** `{peers, deadlineMs}` when the body asks for a federated answer, else undefined. */
export function federatedOptions(body: { peers?: boolean | string[]; deadline_ms?: number }): FederatedOptions | undefined {
  const peers = body.peers === false ? [] : body.peers;
  if (peers === undefined && body.deadline_ms === undefined) return undefined;
  return body.deadline_ms === undefined ? { peers: peers ?? [] } : { peers: peers ?? [], deadlineMs: body.deadline_ms };
}
