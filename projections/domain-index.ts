// Domain index: domain → its nodes' ids in insertion order, the answer to search({ type }).
// A node's domain is its type unless properties.domain is a non-empty string; an update that changes
// it moves the node to the end of its new domain.
//
// It keeps no per-node domain of its own: it is applied *before* node-state, and reads a node's
// current (type, domain) there through `nodeOf`, so on an update or delete it still sees the node as
// it was. A second Map from every node id to its domain cost ~50 bytes per node and ~0.4 s of a
// checkpoint load at 500K nodes.

import { Packr } from 'msgpackr';
import { assert } from '../src/errors.js';
import { domainAfterUpdate, domainOf, type StoredEvent } from '../src/events.js';
import { CanonicalHash, sortedKeys } from './digest.js';
import type { Projection } from './registry.js';

/** A node's id, type and domain as node-state holds them before the event being applied. */
export interface NodeDomain {
  readonly id: string;
  readonly type: string;
  readonly domain: string;
}
export type NodeOf = (nodeId: string) => NodeDomain | undefined;

export interface DomainIndexOptions {
  /** Canonical instance of a node id string, so a checkpoint load shares ids with node-state (loaded first). Default: identity. */
  internNodeId?: (id: string) => string;
}

interface SavedDomainIndex {
  format: 2;
  /** [domain, its node ids in order] per domain. */
  domains: Array<[string, string[]]>;
}

const checkpointCodec = new Packr({ useRecords: false, moreTypes: false, structuredClone: false });

export class DomainIndex implements Projection {
  readonly name = 'domain-index';
  private readonly byDomain = new Map<string, Set<string>>();
  private readonly internNodeId: (id: string) => string;

  constructor(
    private readonly nodeOf: NodeOf,
    options: DomainIndexOptions = {},
  ) {
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

  apply(event: StoredEvent): void {
    switch (event.type) {
      case 'prime.node.created': {
        const p = event.payload;
        this.place(p.id, domainOf(p.type, p.properties));
        return;
      }
      case 'prime.node.updated': {
        const node = this.nodeOf(event.payload.id);
        assert(node !== undefined, `node.updated for unknown node ${event.payload.id} at seq ${event.seq}`);
        const domain = domainAfterUpdate(node.type, node.domain, event.payload.properties);
        if (domain === node.domain) return;
        this.remove(node.id, node.domain);
        this.place(node.id, domain);
        return;
      }
      case 'prime.node.deleted': {
        const node = this.nodeOf(event.payload.id);
        assert(node !== undefined, `node.deleted for unknown node ${event.payload.id} at seq ${event.seq}`);
        this.remove(node.id, node.domain);
        return;
      }
      default:
        return;
    }
  }

  private place(id: string, domain: string): void {
    let members = this.byDomain.get(domain);
    if (members === undefined) {
      members = new Set();
      this.byDomain.set(domain, members);
    }
    members.add(id);
  }

  private remove(id: string, domain: string): void {
    const members = this.byDomain.get(domain);
    assert(members !== undefined && members.delete(id), `node ${id} is not in domain ${domain}`);
    if (members.size === 0) this.byDomain.delete(domain);
  }

  /** Hashes each domain's membership; the order inside a domain is preserved by save/load but not hashed. */
  digest(): string {
    const hash = new CanonicalHash(this.name);
    for (const domain of sortedKeys(this.byDomain.keys())) hash.row(domain, sortedKeys(this.byDomain.get(domain)!));
    return hash.hex();
  }

  async save(): Promise<Uint8Array> {
    const saved: SavedDomainIndex = { format: 2, domains: [] };
    for (const [domain, members] of this.byDomain) saved.domains.push([domain, Array.from(members)]);
    return checkpointCodec.pack(saved);
  }

  async load(bytes: Uint8Array): Promise<void> {
    const saved = checkpointCodec.unpack(bytes) as SavedDomainIndex;
    assert(saved.format === 2, `domain-index checkpoint format ${String(saved.format)} is not supported`);
    this.byDomain.clear();
    for (const [domain, ids] of saved.domains) {
      const members = new Set<string>();
      for (const id of ids) members.add(this.internNodeId(id));
      this.byDomain.set(domain, members);
    }
  }
}
