// Cross-domain index: for each unordered pair of domains, the edges whose two ends lie in those two
// domains (either direction), the answer to crossDomain(a, b).
//
// It reads nodes' domains from node-state through `NodeTable` (and keeps its handles) and, when a node's domain changes,
// re-keys that node's edges, which it reads through `edgesOf` (adjacency's): projections never
// import each other. Apply order matters: this index is registered before node-state, so on
// prime.node.updated it still sees the node's old domain (and adjacency's edges are unchanged).

import { Packr } from 'msgpackr';
import { assert, checkpointCheck } from '../src/kernel/errors.js';
import { domainAfterUpdate, type StoredEvent } from '../src/kernel/events.js';
import { CanonicalHash } from './digest.js';
import type { NodeTable } from './domain-index.js';
import type { Projection } from './projection.js';
import { ahead, CountedNames, grown, grownInt32, GrowthAhead, LinkedRows, none, savedEdgeRows, widenedFor, withHandle, type SavedEdgeRows, type SmallIntColumn } from './columns.js';
import { IdTable } from './id-table.js';
import { packWithRuns, unpackWithRuns, type SavedBytes } from './saved-runs.js';

export interface EdgeEnds { readonly id: string; readonly source: string; readonly target: string; readonly relation: string }
/** Every live edge touching the node, self-loops once. */
export type EdgesOf = (nodeId: string) => Iterable<EdgeEnds>;

/** The key of an unordered domain pair. Length-prefixed so no domain's characters can make two pairs collide. */
function pairKey(a: string, b: string): string {
  return a < b ? `${a.length}:${a}|${b}` : `${b.length}:${b}|${a}`;
}


interface SavedCrossDomain extends SavedEdgeRows {
  format: 3;
  /** Each pair's key, and its edges' handles in its order. */
  pairKeys: string[];
  pairRows: Int32Array[];
}

// moreTypes keeps the handle columns as Int32Arrays.
const checkpointCodec = new Packr({ useRecords: false, moreTypes: true, structuredClone: false });

/**
 * Cross-domain edges are rows indexed by a handle from an IdTable of their ids (no object or Map
 * entry per edge: at 1.8 cross-domain edges per node that took this index from ~340 to ~160
 * bytes per node). Each pair keeps its edges in a doubly linked list, oldest placement first.
 */
export class CrossDomainIndex implements Projection {
  readonly name = 'cross-domain';
  private edgeIds = new IdTable();
  /** Node-state handles of each edge's ends. */
  private sources: Int32Array = new Int32Array(0);
  private targets: Int32Array = new Int32Array(0);
  /** Relation handles, one byte a row while there are few (see CountedNames). */
  private relationOf: SmallIntColumn = new Uint8Array(0);
  private readonly relations = new CountedNames();
  private pairOf: Int32Array = new Int32Array(0);
  /** Each pair's edges (lists by pair handle, rows by edge handle). */
  private readonly pairs = new LinkedRows();
  private readonly pairHandles = new Map<string, number>();
  private pairKeys: string[] = [];
  private pairSizes: number[] = [];
  private freePairs: number[] = [];
  /** The edge columns, grown ahead of need, a slice a turn; `pairOf` last, as fileUnder reads its length for all. */
  private readonly edgeGrowth = new GrowthAhead([
    ahead({ get: () => this.sources, set: (next) => (this.sources = next), fill: none }),
    ahead({ get: () => this.targets, set: (next) => (this.targets = next), fill: none }),
    ahead({ get: () => this.relationOf, set: (next) => (this.relationOf = next) }),
    ahead({ get: () => this.pairs.next, set: (next) => (this.pairs.next = next) }),
    ahead({ get: () => this.pairs.prev, set: (next) => (this.pairs.prev = next) }),
    ahead({ get: () => this.pairOf, set: (next) => (this.pairOf = next), fill: none }),
  ]);

  constructor(
    private readonly nodes: NodeTable,
    private readonly edgesOf: EdgesOf,
  ) {}

  /** One page of the edges between domains a and b (either direction), oldest placement first. O(offset + limit). */
  page(a: string, b: string, offset: number, limit: number): { edges: EdgeEnds[]; total: number } {
    const pair = a === b ? undefined : this.pairHandles.get(pairKey(a, b));
    if (pair === undefined) return { edges: [], total: 0 };
    return { edges: this.pairs.slice(pair, offset, limit).map((edge) => this.ends(edge)), total: this.pairSizes[pair]! };
  }

  /**
   * Directed links between domains: per (source domain, relation, target domain), how many live
   * edges, counted over at most `scanPerPairMax` edges of each pair (the oldest), with each pair's
   * exact total beside. The memory index's cross-references.
   */
  links(scanPerPairMax: number): Array<{ from: string; to: string; relation: string; count: number; pairTotal: number; pairScanned: number }> {
    const links = new Map<string, { from: string; to: string; relation: string; count: number; pairTotal: number; pairScanned: number }>();
    for (const pair of this.pairHandles.values()) {
      const total = this.pairSizes[pair]!;
      const scanned = Math.min(total, scanPerPairMax);
      for (const edge of this.pairs.slice(pair, 0, scanned)) {
        const from = this.nodes.domainAt(this.sources[edge]!);
        const to = this.nodes.domainAt(this.targets[edge]!);
        const relation = this.relations.nameOf(this.relationOf[edge]!);
        const key = `${from.length}:${from}|${relation.length}:${relation}|${to}`;
        const link = links.get(key) ?? { from, to, relation, count: 0, pairTotal: total, pairScanned: scanned };
        link.count++;
        links.set(key, link);
      }
    }
    return [...links.values()];
  }

  /** Number of live cross-domain edges. */
  get count(): number {
    return this.edgeIds.size;
  }

  private ends(edge: number): EdgeEnds {
    return { id: this.edgeIds.idOf(edge), source: this.nodes.idAt(this.sources[edge]!), target: this.nodes.idAt(this.targets[edge]!), relation: this.relations.nameOf(this.relationOf[edge]!) };
  }

  apply(event: StoredEvent): void {
    switch (event.type) {
      case 'prime.node.updated':
        this.updateDomain(event.payload.id, event.payload.properties, event.seq);
        return;
      case 'prime.edge.created':
        this.placeIfCross(event.payload.id, event.payload.source, event.payload.target, event.payload.relation);
        return;
      case 'prime.edge.deleted':
        this.unplace(event.payload.id);
        return;
      default:
        // A node's creation places nothing; its deletion comes after the cascade deleted its edges.
        return;
    }
  }

  private updateDomain(id: string, changes: Parameters<typeof domainAfterUpdate>[2], seq: number): void {
    const handle = this.nodes.handleOf(id);
    if (handle < 0) assert(false, `node.updated for unknown node ${id} at seq ${seq}`);
    const old = this.nodes.domainAt(handle);
    const domain = domainAfterUpdate(this.nodes.typeAt(handle), old, changes);
    if (domain === old) return;
    // Re-key every edge of the node: each may enter, leave or move between pairs.
    for (const edge of this.edgesOf(id)) {
      this.unplace(edge.id);
      this.placeIfCross(edge.id, edge.source, edge.target, edge.relation, id, domain);
    }
  }

  /** Files the edge under its ends' domain pair if they differ; `movedId`, if given, is read as being in `movedDomain`. */
  private placeIfCross(id: string, source: string, target: string, relation: string, movedId?: string, movedDomain?: string): void {
    // Adjacency, applied next, looks the same two ends up.
    const from = this.nodes.rememberHandleOf(source);
    const to = this.nodes.rememberHandleOf(target);
    if (from < 0 || to < 0) assert(false, `edge ${id} joins an unknown node`);
    const fromDomain = source === movedId ? movedDomain! : this.nodes.domainAt(from);
    const toDomain = target === movedId ? movedDomain! : this.nodes.domainAt(to);
    if (fromDomain !== toDomain) this.fileUnder(pairKey(fromDomain, toDomain), id, from, to, relation);
  }

  private fileUnder(key: string, id: string, from: number, to: number, relation: string): void {
    let pair = this.pairHandles.get(key);
    if (pair === undefined) {
      pair = this.freePairs.pop() ?? this.pairKeys.length;
      this.pairKeys[pair] = key;
      this.pairs.growLists(pair + 1);
      this.pairSizes[pair] = 0;
      this.pairHandles.set(key, pair);
    }
    const edge = this.edgeIds.add(id);
    if (edge >= this.pairOf.length) {
      // pairOf is grown last ahead of need: while it is short, the others may be, and each grows as needed.
      this.pairOf = grownInt32(this.pairOf, edge + 1);
      this.sources = grownInt32(this.sources, edge + 1);
      this.targets = grownInt32(this.targets, edge + 1);
      this.relationOf = grown(this.relationOf, edge + 1);
      this.pairs.growRows(edge + 1);
    }
    this.edgeGrowth.note(edge + 1, this.pairOf.length);
    this.relationOf = withHandle(this.relationOf, edge, this.relations.hold(relation));
    this.sources[edge] = from;
    this.targets[edge] = to;
    this.pairOf[edge] = pair;
    this.pairs.append(pair, edge);
    this.pairSizes[pair]!++;
  }

  private unplace(id: string): void {
    const edge = this.edgeIds.get(id);
    if (edge < 0) return; // not a cross-domain edge
    const pair = this.pairOf[edge]!;
    this.pairs.unlink(pair, edge);
    if (--this.pairSizes[pair]! === 0) {
      this.pairHandles.delete(this.pairKeys[pair]!);
      this.freePairs.push(pair);
    }
    this.relations.release(this.relationOf[edge]!);
    this.edgeIds.remove(edge);
  }

  /** Hashes each edge with its pair; order inside a pair is kept by save/load but not hashed. */
  digest(): string {
    const hash = new CanonicalHash(this.name);
    const rows = [...this.edgeIds.handles()].map((e) => [this.ends(e), this.pairKeys[this.pairOf[e]!]!] as const);
    rows.sort(([x], [y]) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0));
    for (const [e, key] of rows) hash.row('edge', e.id, e.source, e.target, e.relation, key);
    return hash.hex();
  }

  /**
   * Snapshots synchronously (the id table, copies of the columns by edge handle, each pair's rows),
   * then renumbers the relations in slices: appends may run between them. Ids stay bytes: decoding
   * each into a string for msgpack took ~0.85 µs a row, and ~17 MB of garbage for a 3.5 MB part at 800K events.
   */
  async save(): Promise<SavedBytes> {
    // All taken in this turn: savedEdgeRows snapshots before its first await.
    const pairs = [...this.pairHandles.values()];
    const pairKeys = pairs.map((pair) => this.pairKeys[pair]!);
    const pairRows = pairs.map((pair) => this.pairs.rowsArray(pair, this.pairSizes[pair]!));
    const rows = await savedEdgeRows(this.edgeIds, this.sources, this.targets, this.relationOf, this.relations);
    return packWithRuns(checkpointCodec, { format: 3, ...rows, pairKeys, pairRows } satisfies SavedCrossDomain);
  }

  async load(bytes: Uint8Array): Promise<void> {
    const saved = unpackWithRuns(checkpointCodec, bytes, this.name) as SavedCrossDomain;
    checkpointCheck(saved.format === 3, 'cross-domain', `cross-domain checkpoint format ${String(saved.format)} is not supported`);
    const edgeIds = IdTable.loadExact(saved.edgeIds);
    const end = edgeIds.handleLimit;
    checkpointCheck([saved.sources, saved.targets, saved.relations].every((column) => column.length === end) && saved.pairKeys.length === saved.pairRows.length, 'cross-domain', 'cross-domain checkpoint: columns disagree in length');
    this.edgeIds = edgeIds;
    this.sources = saved.sources.slice();
    this.targets = saved.targets.slice();
    this.pairOf = new Int32Array(end).fill(-1);
    this.relationOf = widenedFor(new Uint8Array(end), saved.relationNames.length - 1);
    this.relations.restore(saved.relationNames);
    this.pairHandles.clear();
    this.pairKeys = [...saved.pairKeys];
    this.pairs.clear();
    this.pairs.growRows(end);
    this.pairs.growLists(saved.pairKeys.length);
    this.pairSizes = saved.pairRows.map((rows) => rows.length);
    this.freePairs = [];
    const limit = this.nodes.handleLimit;
    let placed = 0;
    for (let pair = 0; pair < saved.pairKeys.length; pair++) {
      checkpointCheck(this.pairSizes[pair]! > 0 && !this.pairHandles.has(saved.pairKeys[pair]!), 'cross-domain', `cross-domain checkpoint: pair ${saved.pairKeys[pair]} is empty or twice`);
      this.pairHandles.set(saved.pairKeys[pair]!, pair);
      for (const edge of saved.pairRows[pair]!) {
        checkpointCheck(edgeIds.isLive(edge) && this.pairOf[edge] === -1, 'cross-domain', `cross-domain checkpoint: edge handle ${edge} is free or in two places`);
        const from = saved.sources[edge]!;
        const to = saved.targets[edge]!;
        const relation = saved.relations[edge]!;
        checkpointCheck(from >= 0 && from < limit && to >= 0 && to < limit && relation < saved.relationNames.length, 'cross-domain', 'cross-domain checkpoint: node handle or relation out of range');
        this.relationOf[edge] = relation;
        this.relations.holdHandle(relation);
        this.pairOf[edge] = pair;
        this.pairs.append(pair, edge);
        placed++;
      }
    }
    checkpointCheck(placed === edgeIds.size, 'cross-domain', `cross-domain checkpoint: ${placed} edges in pairs, ${edgeIds.size} ids`);
  }
}
