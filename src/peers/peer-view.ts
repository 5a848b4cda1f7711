// What /peer/* answers from: the engine's reads, limited to the domains MNEMO_PEER_DOMAINS lists
// (read per request, so sharing can change without a restart), and never fanning out further: a
// peer asking us for our peers' memory would turn every machine into a proxy for every other.

import { performance } from 'node:perf_hooks';
import type { FederatedOptions, MnemoEngine, RecallOptions, SimilarOptions, SimilarQuery } from '../kernel/api.js';
import { MnemoError } from '../kernel/errors.js';
import { deadlineOption } from './federation.js';

export const peerDomainsVariable = 'MNEMO_PEER_DOMAINS';

/** The shared domains, or undefined when the variable is unset (everything is shared). Set but empty shares nothing. */
export function sharedDomains(): string[] | undefined {
  const text = process.env[peerDomainsVariable];
  if (text === undefined) return undefined;
  return text
    .split(',')
    .map((d) => d.trim())
    .filter((d) => d !== '');
}

/**
 * The engine as a /peer/* route sees it. Only the reads the peer routes make are present (the
 * mirror serves reads only); `peers` may be absent or empty (a deadline alone), never a fan-out.
 */
export function peerView(engine: MnemoEngine): MnemoEngine {
  const domains = sharedDomains();
  const reads = engine.shared(domains);
  const view = {
    getNode: reads.getNode.bind(reads),
    neighbors: reads.neighbors.bind(reads),
    neighborsJson: reads.neighborsJson.bind(reads),
    subgraph: reads.subgraph.bind(reads),
    search: reads.search.bind(reads),
    stats: reads.stats.bind(reads),
    similar: (query: SimilarQuery, options: SimilarOptions & Partial<FederatedOptions> = {}) => {
      const { peers, deadlineMs, ...rest } = options;
      noFanOut(peers);
      if (peers === undefined) return reads.similar(query, rest);
      deadlineOption(deadlineMs);
      return Promise.resolve({ results: reads.similar(query, rest), peers: [], degraded: false });
    },
    recall: (options: RecallOptions & Partial<FederatedOptions>) => {
      const { peers, deadlineMs, ...rest } = options;
      noFanOut(peers);
      if (peers === undefined) return reads.recall(rest);
      const deadline = { atMs: performance.now() + deadlineOption(deadlineMs), cut: false };
      const results = reads.recall(rest, deadline);
      return Promise.resolve({ results, peers: [], degraded: deadline.cut });
    },
  };
  // The peer routes call nothing else; a write reaching here would be a bug in the route table.
  return view as unknown as MnemoEngine;
}

function noFanOut(peers: FederatedOptions['peers'] | undefined): void {
  if (peers === true || (Array.isArray(peers) && peers.length > 0)) {
    throw new MnemoError('VALIDATION_FAILED', { field: 'peers', reason: 'a /peer/* route answers from this machine only; it does not ask its own peers' });
  }
}
