// Graph reads over node state and adjacency: neighbours (BFS), subgraphs, shortest paths.
// Depth-1 neighbours is the hot path (AllSource Prime's headline 12 µs query): it walks the
// node's edge lists once and builds a record for each distinct node it reaches.

import type { Direction, EdgeRecord, NeighborNode, NeighborsOptions, NodeRecord, Page, Subgraph } from '../kernel/api.js';
import type { Adjacency } from '../../projections/adjacency.js';
import type { NodeState } from '../../projections/node-state.js';
import { none } from '../../projections/columns.js';
import { JsonBytes, JsonPage, toSnakeJson } from '../kernel/wire.js';
import { performance } from 'node:perf_hooks';
import { mnemoError } from '../kernel/errors.js';
import { peerDeadlineMsMax } from '../kernel/limits.js';
import { depthOption, directionOption, intOption, limitOption, offsetOption } from './options.js';

/** A walk's deadline: it stops once performance.now() passes `atMs`, and sets `cut`. */
export interface WalkDeadline {
  atMs: number;
  cut: boolean;
}

/** A deadline from a `deadlineMs` option (1..peerDeadlineMsMax), or undefined when none was given. */
export function walkDeadline(deadlineMs: unknown): WalkDeadline | undefined {
  if (deadlineMs === undefined) return undefined;
  return { atMs: performance.now() + intOption(deadlineMs, 'deadline_ms', 1, peerDeadlineMsMax, 0), cut: false };
}

/** Up to this many edges, duplicates are found by scanning the result instead of a Set. */
const dedupeScanMax = 32;

/** neighbors' options, checked in one order (so the first bad one named is always the same). */
function neighborsOptions(options: NeighborsOptions): { limit: number; offset: number; depth: number; direction: Direction; deadline: WalkDeadline | undefined } {
  return {
    limit: limitOption(options.limit),
    offset: offsetOption(options.offset),
    depth: depthOption(options.depth, 1),
    direction: directionOption(options.direction, 'both'),
    deadline: walkDeadline(options.deadlineMs),
  };
}

export class GraphQueries {
  /**
   * `visible`, when given, hides every node whose handle it rejects: walks neither return nor pass
   * through them (a peer's view limited to shared domains). Absent on the engine's own reads.
   */
  constructor(
    private readonly nodes: NodeState,
    private readonly adjacency: Adjacency,
    private readonly visible?: (handle: number) => boolean,
  ) {}

  neighbors(id: string, options: NeighborsOptions): Page<NeighborNode> {
    const { limit, offset, depth, direction, deadline } = neighborsOptions(options);
    const found = depth === 1 ? this.adjacent(id, options.relation, direction) : this.withinDepth(id, depth, options.relation, direction, deadline);
    const page = pageOf(found, offset, limit);
    if (deadline !== undefined) page.degraded = deadline.cut;
    return page;
  }

  /**
   * neighbors' page with each node as its wire JSON (what toSnakeJson writes for the record). At
   * depth 1 these are node state's cached bytes: no record is built. NODE_NOT_FOUND when the graph
   * holds no node `id`.
   */
  neighborsJson(id: string, options: NeighborsOptions): Page<JsonBytes> {
    const { limit, offset, depth, direction, deadline } = neighborsOptions(options);
    const self = this.nodes.handleOf(id);
    if (self < 0) throw mnemoError('NODE_NOT_FOUND', { id });
    if (depth !== 1) {
      const page = this.neighbors(id, options) as Page<unknown>;
      page.nodes = page.nodes.map((node) => new JsonBytes(Buffer.from(toSnakeJson(node), 'utf8')));
      return page as Page<JsonBytes>;
    }
    const handles = this.distinctAdjacent(self, options.relation, direction);
    const end = Math.min(handles.length, offset + limit);
    const rows: JsonBytes[] = [];
    for (let i = offset; i < end; i++) rows.push(this.nodes.jsonAt(handles[i]!));
    const page = new JsonPage(rows, handles.length, offset);
    // A depth-1 walk is never cut short.
    if (deadline !== undefined) page.degraded = false;
    return page;
  }

  /** Distinct nodes one hop away, in edge order (out-edges first), the start node excluded. */
  adjacent(id: string, relation: string | undefined, direction: Direction): NodeRecord[] {
    const handles = this.distinctAdjacent(this.nodes.handleOf(id), relation, direction);
    const found: NodeRecord[] = [];
    for (let i = 0; i < handles.length; i++) found.push(this.nodes.recordAt(handles[i]!));
    return found;
  }

  /**
   * Handles of the distinct nodes one hop from the node with handle `self`, in edge order, `self`
   * excluded: adjacency's list, deduplicated in place. Walks build records only for what they return.
   */
  private distinctAdjacent(self: number, relation: string | undefined, direction: Direction): number[] {
    const handles = this.adjacency.adjacentHandles(self, relation, direction);
    // Small neighbourhoods (the common case) deduplicate by scanning what is kept: cheaper than a
    // Set for up to a few dozen entries.
    const seen = handles.length > dedupeScanMax ? new Set<number>() : undefined;
    let kept = 0;
    for (let i = 0; i < handles.length; i++) {
      const other = handles[i]!;
      if (other === self || (this.visible !== undefined && !this.visible(other))) continue;
      if (seen !== undefined) {
        if (seen.has(other)) continue;
        seen.add(other);
      } else {
        let repeat = false;
        for (let j = 0; j < kept && !repeat; j++) repeat = handles[j] === other;
        if (repeat) continue;
      }
      handles[kept++] = other;
    }
    handles.length = kept;
    return handles;
  }

  /** Breadth-first, never revisiting a node; each result carries its hop count. */
  withinDepth(id: string, depthMax: number, relation: string | undefined, direction: Direction, deadline?: WalkDeadline): NeighborNode[] {
    const start = this.nodes.handleOf(id);
    const depthOf = new Map<number, number>([[start, 0]]);
    const found: NeighborNode[] = [];
    let frontier = [start];
    for (let depth = 1; depth <= depthMax && frontier.length > 0; depth++) {
      const next: number[] = [];
      for (const from of frontier) {
        if (deadline !== undefined && performance.now() > deadline.atMs) {
          // What was reached so far is the answer; the caller marks it degraded.
          deadline.cut = true;
          return found;
        }
        for (const other of this.distinctAdjacent(from, relation, direction)) {
          if (depthOf.has(other)) continue;
          depthOf.set(other, depth);
          next.push(other);
          const node: NeighborNode = this.nodes.recordAt(other); // fresh: ours to add the depth to
          node.depth = depth;
          found.push(node);
        }
      }
      frontier = next;
    }
    return found;
  }

  subgraph(id: string, depthOptionValue: unknown, deadlineMs?: unknown): Subgraph {
    const depth = depthOption(depthOptionValue, 2);
    const deadline = walkDeadline(deadlineMs);
    const reached = this.withinDepth(id, depth, undefined, 'both', deadline);
    const inside = new Set<string>([id, ...reached.map((n) => n.id)]);
    const nodes: NodeRecord[] = [this.nodes.get(id)!, ...reached];
    const edges: EdgeRecord[] = [];
    for (const nodeId of inside) {
      for (const edge of this.adjacency.out(nodeId)) if (inside.has(edge.target)) edges.push(edge);
    }
    return deadline === undefined ? { nodes, edges } : { nodes, edges, degraded: deadline.cut };
  }

  /** Fewest hops from `from` to `to` (BFS), the nodes of the path inclusive, or null when none. */
  shortestPath(from: string, to: string, options: { relation?: string; direction?: Direction }): NodeRecord[] | null {
    const direction = directionOption(options.direction, 'out');
    const start = this.nodes.handleOf(from);
    const end = this.nodes.handleOf(to);
    const parent = new Map<number, number>([[start, none]]);
    let frontier = [start];
    while (frontier.length > 0 && !parent.has(end)) {
      const next: number[] = [];
      for (const at of frontier) {
        for (const other of this.distinctAdjacent(at, options.relation, direction)) {
          if (parent.has(other)) continue;
          parent.set(other, at);
          next.push(other);
        }
      }
      frontier = next;
    }
    if (!parent.has(end)) return null;
    const path: NodeRecord[] = [];
    for (let at = end; at !== none; at = parent.get(at)!) path.push(this.nodes.recordAt(at));
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
