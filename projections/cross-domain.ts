// Cross-domain index: for each unordered pair of domains, the edges whose two ends lie in those two
// domains (either direction), the answer to crossDomain(a, b).
//
// It keeps each node's domain itself (from node events) and, when a node's domain changes, re-keys that
// node's edges, which it reads through `edgesOf` (the engine passes adjacency's): projections never
// import each other. Apply order matters: adjacency is registered before this index, so on
// prime.edge.created adjacency already holds the edge, and on prime.node.updated it is unchanged.

import { Packr } from 'msgpackr';
import { assert } from '../src/errors.js';
import { domainAfterUpdate, domainOf, type StoredEvent } from '../src/events.js';
import { CanonicalHash, sortedKeys } from './digest.js';
import type { Projection } from './registry.js';
import { TypedDomains, type TypedDomain } from './typed-domains.js';

export interface EdgeEnds { readonly id: string; readonly source: string; readonly target: string; readonly relation: string }
/** Every live edge touching the node, self-loops once. */
export type EdgesOf = (nodeId: string) => Iterable<EdgeEnds>;

/** A cross-domain edge as crossDomain() returns it. Its pair key is private, so it never shows in JSON. */
class CrossEdge implements EdgeEnds {
  #pair = '';
  constructor(
    readonly id: string,
    readonly source: string,
    readonly target: string,
    readonly relation: string,
  ) {}

  /** The key of the domain pair the edge is filed under (the ends' domains may have changed since). */
  static pairOf(edge: CrossEdge): string {
    return edge.#pair;
  }

  static fileUnder(edge: CrossEdge, pair: string): void {
    edge.#pair = pair;
  }
}

/** The key of an unordered domain pair. Length-prefixed so no domain's characters can make two pairs collide. */
function pairKey(a: string, b: string): string {
  return a < b ? `${a.length}:${a}|${b}` : `${b.length}:${b}|${a}`;
}


export interface CrossDomainOptions {
  /** Canonical instance of a node id string, so a checkpoint load shares ids with node-state. Default: identity. */
  internNodeId?: (id: string) => string;
}

interface SavedCrossDomain {
  format: 1;
  nodeIds: string[];
  nodeTypes: string[];
  nodeDomains: string[];
  /** Cross-domain edges, grouped by pair in each pair's order. */
  edgeIds: string[];
  sources: string[];
  targets: string[];
  relations: string[];
}

const checkpointCodec = new Packr({ useRecords: true, moreTypes: false, structuredClone: false });

export class CrossDomainIndex implements Projection {
  readonly name = 'cross-domain';
  private readonly edges = new Map<string, CrossEdge>();
  private readonly pairs = new Map<string, Set<CrossEdge>>();
  private readonly nodeDomains = new Map<string, TypedDomain>();
  private readonly typedDomains = new TypedDomains();
  private readonly internNodeId: (id: string) => string;

  constructor(private readonly edgesOf: EdgesOf, options: CrossDomainOptions = {}) {
    this.internNodeId = options.internNodeId ?? ((id) => id);
  }

  /** One page of the edges between domains a and b (either direction), oldest placement first. O(offset + limit). */
  page(a: string, b: string, offset: number, limit: number): { edges: EdgeEnds[]; total: number } {
    const bucket = a === b ? undefined : this.pairs.get(pairKey(a, b));
    if (bucket === undefined) return { edges: [], total: 0 };
    const edges: EdgeEnds[] = [];
    let position = 0;
    for (const edge of bucket) {
      if (position >= offset + limit) break;
      if (position >= offset) edges.push(edge);
      position++;
    }
    return { edges, total: bucket.size };
  }

  /** Number of live cross-domain edges. */
  get count(): number {
    return this.edges.size;
  }

  apply(event: StoredEvent): void {
    switch (event.type) {
      case 'prime.node.created': {
        const p = event.payload;
        this.nodeDomains.set(p.id, this.typedDomains.intern(p.type, domainOf(p.type, p.properties)));
        return;
      }
      case 'prime.node.updated':
        this.updateDomain(event.payload.id, event.payload.properties, event.seq);
        return;
      case 'prime.node.deleted': {
        // Its edges were deleted by the cascade just before; only its domain remains.
        const typed = this.nodeDomains.get(event.payload.id);
        assert(typed !== undefined, `node.deleted for unknown node ${event.payload.id} at seq ${event.seq}`);
        this.typedDomains.release(typed);
        this.nodeDomains.delete(event.payload.id);
        return;
      }
      case 'prime.edge.created':
        this.placeIfCross(event.payload.id, event.payload.source, event.payload.target, event.payload.relation);
        return;
      case 'prime.edge.deleted':
        this.unplace(event.payload.id);
        return;
      default:
        return;
    }
  }

  private updateDomain(id: string, changes: Parameters<typeof domainAfterUpdate>[2], seq: number): void {
    const current = this.nodeDomains.get(id);
    assert(current !== undefined, `node.updated for unknown node ${id} at seq ${seq}`);
    const domain = domainAfterUpdate(current.type, current.domain, changes);
    if (domain === current.domain) return;
    this.nodeDomains.set(id, this.typedDomains.intern(current.type, domain));
    this.typedDomains.release(current);
    // Re-key every edge of the node: each may enter, leave or move between pairs.
    for (const edge of this.edgesOf(id)) {
      this.unplace(edge.id);
      this.placeIfCross(edge.id, edge.source, edge.target, edge.relation);
    }
  }

  private placeIfCross(id: string, source: string, target: string, relation: string): void {
    const from = this.nodeDomains.get(source);
    const to = this.nodeDomains.get(target);
    if (from === undefined || to === undefined) assert(false, `edge ${id} joins an unknown node`);
    if (from.domain === to.domain) return;
    const key = pairKey(from.domain, to.domain);
    let bucket = this.pairs.get(key);
    if (bucket === undefined) {
      bucket = new Set();
      this.pairs.set(key, bucket);
    }
    const edge = new CrossEdge(id, this.internNodeId(source), this.internNodeId(target), relation);
    CrossEdge.fileUnder(edge, key);
    bucket.add(edge);
    this.edges.set(id, edge);
  }

  private unplace(id: string): void {
    const edge = this.edges.get(id);
    if (edge === undefined) return; // not a cross-domain edge
    const key = CrossEdge.pairOf(edge);
    const bucket = this.pairs.get(key)!;
    bucket.delete(edge);
    if (bucket.size === 0) this.pairs.delete(key);
    this.edges.delete(id);
  }

  /** Hashes each node's domain and each pair's edge set; order inside a pair is kept by save/load but not hashed. */
  digest(): string {
    const hash = new CanonicalHash(this.name);
    for (const id of sortedKeys(this.nodeDomains.keys())) {
      const typed = this.nodeDomains.get(id)!;
      hash.row('node', id, typed.type, typed.domain);
    }
    for (const id of sortedKeys(this.edges.keys())) {
      const e = this.edges.get(id)!;
      const from = this.nodeDomains.get(e.source)!.domain;
      const to = this.nodeDomains.get(e.target)!.domain;
      hash.row('edge', e.id, e.source, e.target, e.relation, pairKey(from, to));
    }
    return hash.hex();
  }

  async save(): Promise<Uint8Array> {
    const saved: SavedCrossDomain = { format: 1, nodeIds: [], nodeTypes: [], nodeDomains: [], edgeIds: [], sources: [], targets: [], relations: [] };
    for (const [id, typed] of this.nodeDomains) {
      saved.nodeIds.push(id);
      saved.nodeTypes.push(typed.type);
      saved.nodeDomains.push(typed.domain);
    }
    for (const bucket of this.pairs.values()) {
      for (const e of bucket) {
        saved.edgeIds.push(e.id);
        saved.sources.push(e.source);
        saved.targets.push(e.target);
        saved.relations.push(e.relation);
      }
    }
    return checkpointCodec.pack(saved);
  }

  async load(bytes: Uint8Array): Promise<void> {
    const saved = checkpointCodec.unpack(bytes) as SavedCrossDomain;
    assert(saved.format === 1, `cross-domain checkpoint format ${String(saved.format)} is not supported`);
    this.edges.clear();
    this.pairs.clear();
    this.nodeDomains.clear();
    this.typedDomains.clear();
    for (let i = 0; i < saved.nodeIds.length; i++) {
      this.nodeDomains.set(this.internNodeId(saved.nodeIds[i]!), this.typedDomains.intern(saved.nodeTypes[i]!, saved.nodeDomains[i]!));
    }
    for (let i = 0; i < saved.edgeIds.length; i++) {
      this.placeIfCross(saved.edgeIds[i]!, saved.sources[i]!, saved.targets[i]!, saved.relations[i]!);
    }
  }
}
