// A hash of the logical content (nodes with their type and properties, edges, vectors, all by id)
// and nothing local: no seqs, no times, no versions. Two machines that converged give the same
// digest whatever order their events arrived in. It sorts every id, so it costs O(n log n): for
// stats and tests, not a hot path.

import type { Adjacency } from '../../projections/adjacency.js';
import { CanonicalHash, sortedKeys } from '../../projections/digest.js';
import type { NodeState } from '../../projections/node-state.js';
import type { VectorIndex } from '../../projections/vector-index.js';

export interface ContentSources {
  nodes: NodeState;
  adjacency: Adjacency;
  vectors: VectorIndex;
}

export function contentDigest({ nodes, adjacency, vectors }: ContentSources): string {
  const hash = new CanonicalHash('mnemo-content-1');
  const nodeIds = sortedKeys(nodes.ids());
  const edgeIds = new Set<string>();
  for (const id of nodeIds) {
    const node = nodes.get(id)!;
    hash.row('node', id, node.type, node.properties);
    for (const edgeId of adjacency.edgeIdsOf(id)) edgeIds.add(edgeId);
  }
  for (const id of sortedKeys(edgeIds)) {
    const edge = adjacency.getEdge(id)!;
    hash.row('edge', id, edge.source, edge.target, edge.relation, edge.weight, edge.properties);
  }
  for (const id of sortedKeys(vectors.ids())) {
    const vector = vectors.get(id)!;
    hash.row('vector', id, Array.from(vector.vector), vector.text ?? null, vector.metadata ?? null);
  }
  return hash.hex();
}
