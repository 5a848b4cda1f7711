// Domain index: domain → its nodes' ids in insertion order, the answer to search({ type }).
// A node's domain is its type unless properties.domain is a non-empty string; an update that changes
// it moves the node to the end of its new domain.

import { Packr } from 'msgpackr';
import { assert } from '../src/errors.js';
import { domainAfterUpdate, domainOf, type StoredEvent } from '../src/events.js';
import { CanonicalHash, sortedKeys } from './digest.js';
import type { Projection } from './registry.js';
import { TypedDomains, type TypedDomain } from './typed-domains.js';


export interface DomainIndexOptions {
  /** Canonical instance of a node id string, so a checkpoint load shares ids with node-state. Default: identity. */
  internNodeId?: (id: string) => string;
}

interface SavedDomainIndex {
  format: 1;
  /** Node ids, grouped by domain in each domain's order. */
  ids: string[];
  types: string[];
  domains: string[];
}

const checkpointCodec = new Packr({ useRecords: true, moreTypes: false, structuredClone: false });

export class DomainIndex implements Projection {
  readonly name = 'domain-index';
  private readonly byDomain = new Map<string, Set<string>>();
  private readonly nodeDomains = new Map<string, TypedDomain>();
  private readonly typedDomains = new TypedDomains();
  private readonly internNodeId: (id: string) => string;

  constructor(options: DomainIndexOptions = {}) {
    this.internNodeId = options.internNodeId ?? ((id) => id);
  }

  /**
   * One page of a domain's node ids, in insertion order. Costs O(offset + limit): a Set has no random
   * access, and pages deep into a huge domain are rare next to the memory an index array would take.
   */
  page(domain: string, offset: number, limit: number): { ids: string[]; total: number } {
    const members = this.byDomain.get(domain);
    if (members === undefined) return { ids: [], total: 0 };
    const ids: string[] = [];
    let position = 0;
    for (const id of members) {
      if (position >= offset + limit) break;
      if (position >= offset) ids.push(id);
      position++;
    }
    return { ids, total: members.size };
  }

  /** Every domain with at least one node, in order of first appearance. */
  domains(): string[] {
    return Array.from(this.byDomain.keys());
  }

  /** Number of nodes in the domain. */
  size(domain: string): number {
    return this.byDomain.get(domain)?.size ?? 0;
  }

  /** The node's current domain, or undefined for an unknown node. */
  domainOf(nodeId: string): string | undefined {
    return this.nodeDomains.get(nodeId)?.domain;
  }

  apply(event: StoredEvent): void {
    switch (event.type) {
      case 'prime.node.created': {
        const p = event.payload;
        this.place(p.id, p.type, domainOf(p.type, p.properties));
        return;
      }
      case 'prime.node.updated': {
        const id = event.payload.id;
        const current = this.nodeDomains.get(id);
        assert(current !== undefined, `node.updated for unknown node ${id} at seq ${event.seq}`);
        const domain = domainAfterUpdate(current.type, current.domain, event.payload.properties);
        if (domain === current.domain) return;
        this.remove(id, current);
        this.place(this.internNodeId(id), current.type, domain);
        return;
      }
      case 'prime.node.deleted': {
        const current = this.nodeDomains.get(event.payload.id);
        assert(current !== undefined, `node.deleted for unknown node ${event.payload.id} at seq ${event.seq}`);
        this.remove(event.payload.id, current);
        this.nodeDomains.delete(event.payload.id);
        return;
      }
      default:
        return;
    }
  }

  private place(id: string, type: string, domain: string): void {
    const typed = this.typedDomains.intern(type, domain);
    this.nodeDomains.set(id, typed);
    let members = this.byDomain.get(typed.domain);
    if (members === undefined) {
      members = new Set();
      this.byDomain.set(typed.domain, members);
    }
    members.add(id);
  }

  /** Takes the node out of its domain (its entry in nodeDomains stays until replaced or deleted). */
  private remove(id: string, typed: TypedDomain): void {
    const members = this.byDomain.get(typed.domain)!;
    members.delete(id);
    if (members.size === 0) this.byDomain.delete(typed.domain);
    this.typedDomains.release(typed);
  }

  /** Hashes each domain's membership; the order inside a domain is preserved by save/load but not hashed. */
  digest(): string {
    const hash = new CanonicalHash(this.name);
    for (const domain of sortedKeys(this.byDomain.keys())) {
      hash.row(domain, sortedKeys(this.byDomain.get(domain)!));
    }
    for (const id of sortedKeys(this.nodeDomains.keys())) {
      const typed = this.nodeDomains.get(id)!;
      hash.row(id, typed.type, typed.domain);
    }
    return hash.hex();
  }

  async save(): Promise<Uint8Array> {
    const saved: SavedDomainIndex = { format: 1, ids: [], types: [], domains: [] };
    for (const members of this.byDomain.values()) {
      for (const id of members) {
        const typed = this.nodeDomains.get(id)!;
        saved.ids.push(id);
        saved.types.push(typed.type);
        saved.domains.push(typed.domain);
      }
    }
    return checkpointCodec.pack(saved);
  }

  async load(bytes: Uint8Array): Promise<void> {
    const saved = checkpointCodec.unpack(bytes) as SavedDomainIndex;
    assert(saved.format === 1, `domain-index checkpoint format ${String(saved.format)} is not supported`);
    this.byDomain.clear();
    this.nodeDomains.clear();
    this.typedDomains.clear();
    for (let i = 0; i < saved.ids.length; i++) this.place(this.internNodeId(saved.ids[i]!), saved.types[i]!, saved.domains[i]!);
  }
}
