// What the memory holds, summarised for the memory index: each domain's size, the types and a few
// names among its first nodes, and the directed links between domains. Built from the live
// projections, at most once per seq (the engine caches it).

import type { CrossDomainIndex } from '../../projections/cross-domain.js';
import type { DomainIndex } from '../../projections/domain-index.js';
import type { NodeState } from '../../projections/node-state.js';
import { exampleName, examplesPerDomain, type DomainSummary, type MemoryOverview } from '../query/memory-index.js';

/** Nodes read per domain for its types and example names: bounds the index's cost on a large domain (sizes stay exact). */
const overviewNodesPerDomainMax = 1_000;
/** Cross-domain edges read per domain pair for relation counts (pair totals stay exact). */
const overviewEdgesPerPairMax = 10_000;

export function overviewOf(seq: number, nodes: NodeState, domains: DomainIndex, crossDomains: CrossDomainIndex, totalEdges: number): MemoryOverview {
  const summaries: DomainSummary[] = domains.domains().map((domain) => {
    const types = new Map<string, number>();
    const examples: string[] = [];
    for (const id of domains.page(domain, 0, overviewNodesPerDomainMax).ids) {
      const node = nodes.get(id);
      if (node === undefined) continue;
      types.set(node.type, (types.get(node.type) ?? 0) + 1);
      const name = examples.length < examplesPerDomain ? exampleName(node) : undefined;
      if (name !== undefined) examples.push(name);
    }
    return { domain, nodes: domains.size(domain), types, examples };
  });
  const links = crossDomains.links(overviewEdgesPerPairMax).map(({ from, to, relation, count }) => ({ from, to, relation, count }));
  return { seq, totalNodes: nodes.count, totalEdges, domains: summaries, links };
}
