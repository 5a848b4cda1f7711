// Graph reads over node state and adjacency: neighbours (BFS), subgraphs, shortest paths.
// Depth-1 neighbours is the hot path (AllSource Prime's headline 12 µs query): it walks the
// node's edge lists once and builds a record for each distinct node it reaches.

import type { Direction, EdgeRecord, NeighborNode, NeighborsOptions, NodeRecord, Page, Subgraph } from '../api.js';
import type { Adjacency } from '../../projections/adjacency.js';
import type { NodeState } from '../../projections/node-state.js';
import { depthOption, directionOption, limitOption, offsetOption } from './options.js';

/** Up to this many edges, duplicates are found by scanning the result instead of a Set. */
const dedupeScanMax = 32;

export class GraphQueries {
  constructor(
    private readonly nodes: NodeState,
    private readonly adjacency: Adjacency,
  ) {}

  neighbors(id: string, options: NeighborsOptions): Page<NeighborNode> {
    const limit = limitOption(options.limit);
    const offset = offsetOption(options.offset);
    const depth = depthOption(options.depth, 1);
    const direction = directionOption(options.direction, 'both');
    const found = depth === 1 ? this.adjacent(id, options.relation, direction) : this.withinDepth(id, depth, options.relation, direction);
    return pageOf(found, offset, limit);
  }

  /** Distinct nodes one hop away, in edge order (out-edges first), the start node excluded. */
  adjacent(id: string, relation: string | undefined, direction: Direction): NodeRecord[] {
    const self = this.nodes.handleOf(id);
    const others = this.adjacency.adjacentHandles(self, relation, direction);
    const found: NodeRecord[] = [];
    if (others.length > dedupeScanMax) {
      const seen = new Set<number>([self]);
      for (const other of others) {
        if (seen.has(other)) continue;
        seen.add(other);
        found.push(this.nodes.recordAt(other));
      }
      return found;
    }
    // Small neighbourhoods (the common case) deduplicate by scanning the handles before: cheaper
    // than a Set for up to a few dozen entries.
    for (let i = 0; i < others.length; i++) {
      const other = others[i]!;
      if (other === self) continue;
      let seen = false;
      for (let j = 0; j < i && !seen; j++) seen = others[j] === other;
      if (!seen) found.push(this.nodes.recordAt(other));
    }
    return found;
  }

  /** Breadth-first, never revisiting a node; each result carries its hop count. */
  withinDepth(id: string, depthMax: number, relation: string | undefined, direction: Direction): NeighborNode[] {
    const depthOf = new Map<string, number>([[id, 0]]);
    const found: NeighborNode[] = [];
    let frontier = [id];
    for (let depth = 1; depth <= depthMax && frontier.length > 0; depth++) {
      const next: string[] = [];
      for (const from of frontier) {
        for (const node of this.adjacent(from, relation, direction)) {
          if (depthOf.has(node.id)) continue;
          depthOf.set(node.id, depth);
          next.push(node.id);
          found.push({ ...node, depth });
        }
      }
      frontier = next;
    }
    return found;
  }

  subgraph(id: string, depthOptionValue: unknown): Subgraph {
    const depth = depthOption(depthOptionValue, 2);
    const reached = this.withinDepth(id, depth, undefined, 'both');
    const inside = new Set<string>([id, ...reached.map((n) => n.id)]);
    const nodes: NodeRecord[] = [this.nodes.get(id)!, ...reached];
    const edges: EdgeRecord[] = [];
    for (const nodeId of inside) {
      for (const edge of this.adjacency.out(nodeId)) if (inside.has(edge.target)) edges.push(edge);
    }
    return { nodes, edges };
  }

  /** Fewest hops from `from` to `to` (BFS), the nodes of the path inclusive, or null when none. */
  shortestPath(from: string, to: string, options: { relation?: string; direction?: Direction }): NodeRecord[] | null {
    const direction = directionOption(options.direction, 'out');
    const parent = new Map<string, string | null>([[from, null]]);
    let frontier = [from];
    while (frontier.length > 0 && !parent.has(to)) {
      const next: string[] = [];
      for (const nodeId of frontier) {
        for (const node of this.adjacent(nodeId, options.relation, direction)) {
          if (parent.has(node.id)) continue;
          parent.set(node.id, nodeId);
          next.push(node.id);
        }
      }
      frontier = next;
    }
    if (!parent.has(to)) return null;
    const path: NodeRecord[] = [];
    for (let at: string | null = to; at !== null; at = parent.get(at) ?? null) path.push(this.nodes.get(at)!);
    return path.reverse();
  }
}

/** One page of `found`. */
export function pageOf<T>(found: T[], offset: number, limit: number): Page<T> {
  return pageFromSlice(offset === 0 && found.length <= limit ? found : found.slice(offset, offset + limit), found.length, offset);
}

/** The page holding `nodes`, already cut at `offset` from `total`. Built without an object spread: on the 4 µs neighbours path a spread cost ~0.3 µs. */
export function pageFromSlice<T>(nodes: T[], total: number, offset: number): Page<T> {
  const next = offset + nodes.length;
  const page: Page<T> = { nodes, total, returned: nodes.length, offset };
  if (next < total) page.nextOffset = next;
  return page;
}
