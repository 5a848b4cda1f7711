// graphology, the JavaScript graph library a user would otherwise reach for: a directed multigraph
// (two edges may join the same pair, as in mnemo), nodes carrying their attributes, and neighbour
// reads through forEachOutNeighbor, the callback iterator its docs recommend over building arrays.
import { MultiDirectedGraph } from 'graphology';

import type { RawEvent } from '../../src/index.js';

export type GraphologyGraph = MultiDirectedGraph;

export function newGraphology(): GraphologyGraph {
  return new MultiDirectedGraph({ allowSelfLoops: true });
}

export function applyToGraphology(graph: GraphologyGraph, events: readonly RawEvent[]): void {
  for (const event of events) {
    const p = event.payload as { id: string; type?: string; properties?: Record<string, unknown>; source?: string; target?: string; relation?: string };
    if (event.type === 'prime.node.created') graph.addNode(p.id, { id: p.id, type: p.type, properties: p.properties ?? {} });
    else if (event.type === 'prime.edge.created') graph.addDirectedEdgeWithKey(p.id, p.source!, p.target!, { relation: p.relation });
    else throw new Error(`graphology peer: unexpected event type ${event.type}`);
  }
}

/** Each outgoing neighbour once, as its attribute record. */
export function graphologyNeighbors(graph: GraphologyGraph, id: string): unknown[] {
  const out: unknown[] = [];
  graph.forEachOutNeighbor(id, (_neighbor, attributes) => {
    out.push(attributes);
  });
  return out;
}
