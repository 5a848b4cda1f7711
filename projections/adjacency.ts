// Adjacency: every live edge by id, and per node its out-edges and in-edges.
//
// Memory layout (target ≤ 1 KiB per node at 10 edges per node): one Edge object per edge, referenced
// from the edges-by-id Map, the source's out list and the target's in list. Per node, one small
// NodeEdges object with two plain arrays (shared empty arrays until the first edge). Relation and node
// id strings are interned, so a million edges of relation 'knows' hold one 'knows' string, and an
// edge's source/target are the node's own id string rather than a per-event copy. Each Edge remembers
// its slot in both lists, so removing an edge is O(1) (swap with the last) even from a hub node with
// a million edges, whose cascade delete would otherwise be quadratic.

import { Packr } from 'msgpackr';
import { assert } from '../src/errors.js';
import type { Properties, StoredEvent } from '../src/events.js';
import { CanonicalHash, sortedKeys } from './digest.js';
import type { Projection } from './registry.js';

const noProperties: Properties = Object.freeze({}) as Properties;

function isEmpty(object: object): boolean {
  for (const _ in object) return false;
  return true;
}

/**
 * A live edge. Shared by reference between the id map and both adjacency lists: callers must not
 * mutate it, and must not hold a list returned by out()/in() across a write. The list positions are
 * ES private fields so they never show up in JSON, spreads or test equality.
 */
export class Edge {
  #outSlot = -1;
  #inSlot = -1;

  constructor(
    readonly id: string,
    readonly source: string,
    readonly target: string,
    readonly relation: string,
    readonly weight: number,
    readonly properties: Properties,
  ) {}

  /** Appends the edge to its source's out list and its target's in list (both the same node for a self-loop). */
  static link(edge: Edge, out: Edge[], into: Edge[]): void {
    edge.#outSlot = out.length;
    out.push(edge);
    edge.#inSlot = into.length;
    into.push(edge);
  }

  /** Removes the edge from both lists in O(1) by moving each list's last edge into its slot. */
  static unlink(edge: Edge, out: Edge[], into: Edge[]): void {
    assert(out[edge.#outSlot] === edge && into[edge.#inSlot] === edge, `edge ${edge.id} is not where its slots say`);
    const lastOut = out.pop()!;
    if (lastOut !== edge) {
      out[edge.#outSlot] = lastOut;
      lastOut.#outSlot = edge.#outSlot;
    }
    const lastIn = into.pop()!;
    if (lastIn !== edge) {
      into[edge.#inSlot] = lastIn;
      lastIn.#inSlot = edge.#inSlot;
    }
  }
}

/** Shared by every node with no edges in that direction; replaced by a real array on the first edge. */
const noEdges: Edge[] = [];
Object.freeze(noEdges);

class NodeEdges {
  out: Edge[] = noEdges;
  in: Edge[] = noEdges;
  constructor(readonly id: string) {}
}

/** Count of live edges of one relation; `relation` is the string instance every such edge shares. */
interface RelationCount { readonly relation: string; count: number }

export interface AdjacencyOptions {
  /**
   * Returns the canonical instance of a node id string (the engine passes node-state's), so that after a
   * checkpoint load, which decodes each projection's strings separately, the projections still share one
   * copy of each id. Default: identity.
   */
  internNodeId?: (id: string) => string;
}

interface SavedAdjacency {
  format: 1;
  ids: string[];
  sources: string[];
  targets: string[];
  relations: string[];
  weights: number[];
  properties: Properties[];
}

const checkpointCodec = new Packr({ useRecords: true, moreTypes: false, structuredClone: false });

export class Adjacency implements Projection {
  readonly name = 'adjacency';
  private readonly edges = new Map<string, Edge>();
  private readonly nodes = new Map<string, NodeEdges>();
  private readonly relations = new Map<string, RelationCount>();
  private readonly internNodeId: (id: string) => string;

  constructor(options: AdjacencyOptions = {}) {
    this.internNodeId = options.internNodeId ?? ((id) => id);
  }

  getEdge(id: string): Edge | undefined {
    return this.edges.get(id);
  }

  hasEdge(id: string): boolean {
    return this.edges.has(id);
  }

  get count(): number {
    return this.edges.size;
  }

  /** The node's out-edges, in no particular order. The live internal list: do not mutate, do not hold across a write. */
  out(nodeId: string): readonly Edge[] {
    return this.nodes.get(nodeId)?.out ?? noEdges;
  }

  /** The node's in-edges, in no particular order. The live internal list: do not mutate, do not hold across a write. */
  in(nodeId: string): readonly Edge[] {
    return this.nodes.get(nodeId)?.in ?? noEdges;
  }

  /** Every edge touching the node, out then in, a self-loop once. A fresh array. */
  edgesOf(nodeId: string): Edge[] {
    const entry = this.nodes.get(nodeId);
    if (entry === undefined) return [];
    const all = entry.out.slice();
    for (const edge of entry.in) if (edge.source !== nodeId) all.push(edge);
    return all;
  }

  /** Ids of every edge touching the node, out then in, a self-loop once. A fresh array. */
  edgeIdsOf(nodeId: string): string[] {
    const entry = this.nodes.get(nodeId);
    if (entry === undefined) return [];
    const ids: string[] = [];
    for (const edge of entry.out) ids.push(edge.id);
    for (const edge of entry.in) if (edge.source !== nodeId) ids.push(edge.id);
    return ids;
  }

  countsByRelation(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const { relation, count } of this.relations.values()) counts[relation] = count;
    return counts;
  }

  apply(event: StoredEvent): void {
    switch (event.type) {
      case 'prime.edge.created': {
        const p = event.payload;
        this.addEdge(p.id, p.source, p.target, p.relation, p.weight ?? 1, p.properties ?? noProperties);
        return;
      }
      case 'prime.edge.deleted':
        this.removeEdge(event.payload.id, event.seq);
        return;
      case 'prime.node.deleted': {
        // The cascade has already deleted every edge of the node; only its empty lists remain.
        const entry = this.nodes.get(event.payload.id);
        if (entry === undefined) return;
        assert(entry.out.length === 0 && entry.in.length === 0, `node ${entry.id} deleted with live edges at seq ${event.seq}`);
        this.nodes.delete(entry.id);
        return;
      }
      default:
        return;
    }
  }

  private addEdge(id: string, source: string, target: string, relation: string, weight: number, properties: Properties): void {
    if (this.edges.has(id)) assert(false, `edge ${id} created twice`);
    const from = this.entryOf(source);
    const to = source === target ? from : this.entryOf(target);
    const edge = new Edge(id, from.id, to.id, this.countRelation(relation, +1), weight, isEmpty(properties) ? noProperties : properties);
    if (from.out === noEdges) from.out = [];
    if (to.in === noEdges) to.in = [];
    Edge.link(edge, from.out, to.in);
    this.edges.set(id, edge);
  }

  private removeEdge(id: string, seq: number): void {
    const edge = this.edges.get(id);
    assert(edge !== undefined, `edge.deleted for unknown edge ${id} at seq ${seq}`);
    Edge.unlink(edge, this.nodes.get(edge.source)!.out, this.nodes.get(edge.target)!.in);
    this.edges.delete(id);
    this.countRelation(edge.relation, -1);
  }

  private entryOf(nodeId: string): NodeEdges {
    let entry = this.nodes.get(nodeId);
    if (entry === undefined) {
      const id = this.internNodeId(nodeId);
      entry = new NodeEdges(id);
      this.nodes.set(id, entry);
    }
    return entry;
  }

  /** Adjusts a relation's count and returns its shared string instance. */
  private countRelation(relation: string, delta: number): string {
    let entry = this.relations.get(relation);
    if (entry === undefined) {
      entry = { relation, count: 0 };
      this.relations.set(relation, entry);
    }
    entry.count += delta;
    if (entry.count === 0) this.relations.delete(relation);
    return entry.relation;
  }

  /** Hashes the set of edges; list order inside a node is incidental (it changes with swap-removal). */
  digest(): string {
    const hash = new CanonicalHash(this.name);
    for (const id of sortedKeys(this.edges.keys())) {
      const e = this.edges.get(id)!;
      hash.row(e.id, e.source, e.target, e.relation, e.weight, e.properties);
    }
    return hash.hex();
  }

  async save(): Promise<Uint8Array> {
    const saved: SavedAdjacency = { format: 1, ids: [], sources: [], targets: [], relations: [], weights: [], properties: [] };
    for (const e of this.edges.values()) {
      saved.ids.push(e.id);
      saved.sources.push(e.source);
      saved.targets.push(e.target);
      saved.relations.push(e.relation);
      saved.weights.push(e.weight);
      saved.properties.push(e.properties);
    }
    return checkpointCodec.pack(saved);
  }

  async load(bytes: Uint8Array): Promise<void> {
    const saved = checkpointCodec.unpack(bytes) as SavedAdjacency;
    assert(saved.format === 1, `adjacency checkpoint format ${String(saved.format)} is not supported`);
    this.edges.clear();
    this.nodes.clear();
    this.relations.clear();
    for (let i = 0; i < saved.ids.length; i++) {
      this.addEdge(saved.ids[i]!, saved.sources[i]!, saved.targets[i]!, saved.relations[i]!, saved.weights[i]!, saved.properties[i]!);
    }
  }
}
