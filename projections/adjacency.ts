// Adjacency: every live edge by id, and per node its out-edges and in-edges.
//
// Memory layout (target ≤ 1 KiB per node at 10 edges per node): edges are rows in typed-array
// columns indexed by an edge handle, not objects. An edge id maps to its handle through an IdTable
// (its characters in a byte arena, ~30 bytes per id instead of a ~80-byte string plus Map entry);
// the row holds source and target node handles, a relation handle, the weight, and its place in
// two doubly linked lists: the source's out-edges and the target's in-edges. Linking and unlinking
// are O(1), so a cascade delete of a hub with a million edges stays linear. Properties, which few
// edges have, live in a Map by handle. Node handles are node-state's (read through `NodeHandles`,
// which the engine passes in): per node this keeps only the heads and tails of its two lists.
//
// A checkpoint is a handful of typed arrays and the ids' bytes: loading it builds no per-edge or
// per-node object or string. It must be loaded after node-state, whose handles it refers to.
// Reads materialise an EdgeRecord only for what they return.

import { Packr } from 'msgpackr';
import { assert, checkpointCheck } from '../src/kernel/errors.js';
import { isEmpty, noProperties, type Properties, type StoredEvent } from '../src/kernel/events.js';
import { CanonicalHash } from './digest.js';
import { packWithRuns, unpackWithRuns, type SavedBytes } from './saved-runs.js';
import { ahead, CountedNames, grown, GrowthAhead, LinkedRows, none, savedEdgeRows, widenedFor, withHandle, type SavedEdgeRows, type SmallIntColumn } from './columns.js';
import { IdTable } from './id-table.js';
import type { Projection } from './projection.js';

/** An edge as getEdge returns it: a fresh object each call. */
export interface EdgeRecord {
  readonly id: string;
  readonly source: string;
  readonly target: string;
  readonly relation: string;
  readonly weight: number;
  readonly properties: Properties;
}

export type EdgeDirection = 'out' | 'in' | 'both';

/** Node-state's handles: adjacency is applied before node-state, so on a node's deletion it still has one. */
export interface NodeHandles {
  /** The live node's handle, or -1. */
  handleOf(id: string): number;
  /** The id of a live handle (node-state's own string). */
  idAt(handle: number): string;
  /** One past the highest handle ever handed out. */
  readonly handleLimit: number;
}

interface SavedAdjacency extends SavedEdgeRows {
  format: 3;
  /** Null when every weight is 1. */
  weights: Float64Array | null;
  /** [edge handle, properties] for each edge that has any. */
  properties: Array<[number, Properties]>;
}

// moreTypes keeps typed arrays as typed arrays (one copy, no per-element decoding).
const checkpointCodec = new Packr({ useRecords: false, moreTypes: true, structuredClone: false });

export class Adjacency implements Projection {
  readonly name = 'adjacency';
  // ---- edges, by edge handle ----
  private edgeIds = new IdTable();
  private sources: Int32Array = new Int32Array(0);
  private targets: Int32Array = new Int32Array(0);
  /** Relation handles: one byte an edge while a graph has at most 256 relations (most have a handful), wider after. */
  private relationOf: SmallIntColumn = new Uint8Array(0);
  /**
   * Null until some edge weighs other than 1 (most graphs: 8 bytes an edge, ~80 per node at 10
   * edges each, saved); then a column, every other edge's row 1.
   */
  private weights: Float64Array | null = null;
  /** Each node's out-edges (lists by node handle, rows by edge handle), and its in-edges. */
  private readonly outs = new LinkedRows();
  private readonly ins = new LinkedRows();
  private edgeProperties = new Map<number, Properties>();


  private readonly relations = new CountedNames();
  /** The edge columns, grown ahead of need, a slice a turn; `sources` last, as ensureEdgeRows reads its length for all. */
  private readonly edgeGrowth = new GrowthAhead([
    ahead({ get: () => this.targets, set: (next) => (this.targets = next) }),
    ahead({ get: () => this.relationOf, set: (next) => (this.relationOf = next) }),
    ahead({ get: () => this.weights, set: (next) => (this.weights = next) }),
    ahead({ get: () => this.outs.next, set: (next) => (this.outs.next = next) }),
    ahead({ get: () => this.outs.prev, set: (next) => (this.outs.prev = next) }),
    ahead({ get: () => this.ins.next, set: (next) => (this.ins.next = next) }),
    ahead({ get: () => this.ins.prev, set: (next) => (this.ins.prev = next) }),
    ahead({ get: () => this.sources, set: (next) => (this.sources = next) }),
  ]);

  constructor(private readonly nodes: NodeHandles) {}

  getEdge(id: string): EdgeRecord | undefined {
    const edge = this.edgeIds.get(id);
    return edge < 0 ? undefined : this.record(edge, id);
  }

  hasEdge(id: string): boolean {
    return this.edgeIds.has(id);
  }

  get count(): number {
    return this.edgeIds.size;
  }

  /** The node's out-edges, oldest link first. Fresh records. */
  out(nodeId: string): EdgeRecord[] {
    const records: EdgeRecord[] = [];
    const node = this.nodeRow(nodeId);
    if (node !== none) for (let e = this.outs.heads[node]!; e !== none; e = this.outs.next[e]!) records.push(this.record(e));
    return records;
  }

  /** The node's in-edges, oldest link first. Fresh records. */
  in(nodeId: string): EdgeRecord[] {
    const records: EdgeRecord[] = [];
    const node = this.nodeRow(nodeId);
    if (node !== none) for (let e = this.ins.heads[node]!; e !== none; e = this.ins.next[e]!) records.push(this.record(e));
    return records;
  }

  /** Every edge touching the node, out then in, a self-loop once. Fresh records. */
  edgesOf(nodeId: string): EdgeRecord[] {
    const node = this.nodeRow(nodeId);
    if (node === none) return [];
    const records = this.out(nodeId);
    for (let e = this.ins.heads[node]!; e !== none; e = this.ins.next[e]!) if (this.sources[e] !== node) records.push(this.record(e));
    return records;
  }

  /** Ids of every edge touching the node, out then in, a self-loop once. */
  edgeIdsOf(nodeId: string): string[] {
    const ids: string[] = [];
    const node = this.nodeRow(nodeId);
    if (node === none) return ids;
    for (let e = this.outs.heads[node]!; e !== none; e = this.outs.next[e]!) ids.push(this.edgeIds.idOf(e));
    for (let e = this.ins.heads[node]!; e !== none; e = this.ins.next[e]!) if (this.sources[e] !== node) ids.push(this.edgeIds.idOf(e));
    return ids;
  }

  /**
   * The node-state handles of the nodes at the other end of the edges of the node with handle
   * `node` (-1: none), out-edges first when direction is 'both', filtered by relation, with repeats
   * and the node itself where edges say so. The hot path of neighbors: it hashes no string.
   */
  adjacentHandles(node: number, relation: string | undefined, direction: EdgeDirection): number[] {
    const handles: number[] = [];
    if (node < 0 || node >= this.outs.heads.length) return handles;
    let only = none;
    if (relation !== undefined) {
      const handle = this.relations.handleOf(relation);
      if (handle === undefined) return handles;
      only = handle;
    }
    if (direction !== 'in') {
      for (let e = this.outs.heads[node]!; e !== none; e = this.outs.next[e]!) {
        if (only === none || this.relationOf[e] === only) handles.push(this.targets[e]!);
      }
    }
    if (direction !== 'out') {
      for (let e = this.ins.heads[node]!; e !== none; e = this.ins.next[e]!) {
        if (only === none || this.relationOf[e] === only) handles.push(this.sources[e]!);
      }
    }
    return handles;
  }

  /** The node's handle if it has rows here (it may have no edges), or none. */
  private nodeRow(nodeId: string): number {
    const node = this.nodes.handleOf(nodeId);
    return node < this.outs.heads.length ? node : none;
  }

  countsByRelation(): Record<string, number> {
    return this.relations.counted();
  }

  apply(event: StoredEvent): void {
    switch (event.type) {
      case 'prime.edge.created': {
        const p = event.payload;
        this.addEdge(p.id, p.source, p.target, p.relation, p.weight ?? 1, p.properties ?? noProperties);
        return;
      }
      case 'prime.edge.deleted': {
        const edge = this.edgeIds.get(event.payload.id);
        if (edge < 0) assert(false, `edge.deleted for unknown edge ${event.payload.id} at seq ${event.seq}`);
        this.removeEdge(edge);
        return;
      }
      case 'prime.node.deleted': {
        // The cascade has already deleted every edge of the node: its lists are empty, ready for
        // the next node node-state gives this handle.
        const node = this.nodeRow(event.payload.id);
        if (node !== none && !(this.outs.isEmpty(node) && this.ins.isEmpty(node))) assert(false, `node ${event.payload.id} deleted with live edges at seq ${event.seq}`);
        return;
      }
      default:
        return;
    }
  }

  private record(edge: number, id = this.edgeIds.idOf(edge)): EdgeRecord {
    return {
      id,
      source: this.nodes.idAt(this.sources[edge]!),
      target: this.nodes.idAt(this.targets[edge]!),
      relation: this.relations.nameOf(this.relationOf[edge]!),
      weight: this.weights === null ? 1 : this.weights[edge]!,
      properties: this.edgeProperties.get(edge) ?? noProperties,
    };
  }

  private addEdge(id: string, source: string, target: string, relation: string, weight: number, properties: Properties): void {
    const edge = this.edgeIds.add(id);
    this.ensureEdgeRows(edge + 1);
    this.edgeGrowth.note(edge + 1, this.sources.length);
    const from = this.nodeHandleOf(source);
    const to = this.nodeHandleOf(target);
    this.sources[edge] = from;
    this.targets[edge] = to;
    this.relationOf = withHandle(this.relationOf, edge, this.relations.hold(relation));
    this.setWeight(edge, weight);
    if (!isEmpty(properties)) this.edgeProperties.set(edge, properties);
    this.outs.append(from, edge);
    this.ins.append(to, edge);
  }

  private removeEdge(edge: number): void {
    const from = this.sources[edge]!;
    const to = this.targets[edge]!;
    this.outs.unlink(from, edge);
    this.ins.unlink(to, edge);
    this.relations.release(this.relationOf[edge]!);
    this.edgeProperties.delete(edge);
    this.edgeIds.remove(edge);
  }

  private setWeight(edge: number, weight: number): void {
    if (this.weights === null) {
      if (weight === 1) return;
      this.weights = new Float64Array(this.sources.length).fill(1);
    }
    this.weights[edge] = weight;
  }

  private reset(): void {
    this.edgeIds = new IdTable();
    for (const column of ['sources', 'targets'] as const) this[column] = new Int32Array(0);
    this.relationOf = new Uint8Array(0);
    this.outs.clear();
    this.ins.clear();
    this.weights = null;
    this.edgeProperties = new Map();
    this.relations.restore([]);
  }

  /**
   * `sources` stands for every edge column: edgeGrowth grows it last, so while it is short some
   * other column may be too, and each is grown here as needed (grown returns one long enough as it is).
   */
  private ensureEdgeRows(rows: number): void {
    if (rows <= this.sources.length) return;
    // Not filled: addEdge sets a row's ends before anything reads them (see LinkedRows.growRows).
    this.sources = grown(this.sources, rows);
    this.targets = grown(this.targets, rows);
    this.relationOf = grown(this.relationOf, rows);
    if (this.weights !== null) this.weights = grown(this.weights, rows);
    this.outs.growRows(rows);
    this.ins.growRows(rows);
  }

  private ensureNodeRows(rows: number): void {
    if (rows <= this.outs.heads.length) return; // per edge end: skip four growth calls
    this.outs.growLists(rows);
    this.ins.growLists(rows);
  }

  private nodeHandleOf(nodeId: string): number {
    const node = this.nodes.handleOf(nodeId);
    if (node < 0) assert(false, `edge end ${nodeId} is not a node`);
    this.ensureNodeRows(node + 1);
    return node;
  }

  /** Hashes the set of edges; list order inside a node is incidental. */
  digest(): string {
    const hash = new CanonicalHash(this.name);
    const edges = [...this.edgeIds.handles()].map((e) => this.record(e)).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    for (const e of edges) hash.row(e.id, e.source, e.target, e.relation, e.weight, e.properties);
    return hash.hex();
  }

  /**
   * Snapshots synchronously (the id table and copies of the columns, by edge handle), then
   * renumbers the relations in slices: appends may run between them. The columns are written as
   * they are, not gathered into live-edge order: at 800K edges a gathered save touched ~45 MB of
   * fresh pages (the gather's columns, the ids re-encoded), this one ~15 MB.
   */
  async save(): Promise<SavedBytes> {
    // All taken in this turn: savedEdgeRows snapshots before its first await.
    const weights = this.weights === null ? null : this.weights.slice(0, this.edgeIds.handleLimit);
    const properties = [...this.edgeProperties];
    const rows = await savedEdgeRows(this.edgeIds, this.sources, this.targets, this.relationOf, this.relations);
    return packWithRuns(checkpointCodec, { format: 3, ...rows, weights, properties } satisfies SavedAdjacency);
  }

  async load(bytes: Uint8Array): Promise<void> {
    const saved = unpackWithRuns(checkpointCodec, bytes, this.name) as SavedAdjacency;
    checkpointCheck(saved.format === 3, 'adjacency', `adjacency checkpoint format ${String(saved.format)} is not supported`);
    const edgeIds = IdTable.loadExact(saved.edgeIds);
    const end = edgeIds.handleLimit;
    checkpointCheck([saved.sources, saved.targets, saved.relations, saved.weights ?? saved.sources].every((column) => column.length === end), 'adjacency', 'adjacency checkpoint columns disagree in length');
    this.reset();
    this.edgeIds = edgeIds;
    this.ensureEdgeRows(end);
    const nodeLimit = this.nodes.handleLimit;
    this.ensureNodeRows(nodeLimit);
    this.relationOf = widenedFor(this.relationOf, saved.relationNames.length - 1);
    this.relations.restore(saved.relationNames);
    // Linking live edges in handle order rebuilds every list (in link order, but for reused handles).
    for (const edge of edgeIds.liveHandles()) {
      const from = saved.sources[edge]!;
      const to = saved.targets[edge]!;
      const relation = saved.relations[edge]!;
      checkpointCheck(from >= 0 && from < nodeLimit && to >= 0 && to < nodeLimit, 'adjacency', 'adjacency checkpoint: node handle out of range');
      checkpointCheck(relation < saved.relationNames.length, 'adjacency', 'adjacency checkpoint: relation index out of range');
      this.sources[edge] = from;
      this.targets[edge] = to;
      this.relationOf[edge] = relation;
      this.relations.holdHandle(relation);
      if (saved.weights !== null) this.setWeight(edge, saved.weights[edge]!);
      this.outs.append(from, edge);
      this.ins.append(to, edge);
    }
    for (const [edge, properties] of saved.properties) {
      checkpointCheck(edgeIds.isLive(edge), 'adjacency', `adjacency checkpoint: properties for edge handle ${edge}, which is free`);
      this.edgeProperties.set(edge, properties);
    }
  }
}
