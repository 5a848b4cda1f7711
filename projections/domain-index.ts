// Domain index: domain → its nodes in insertion order, the answer to search({ type }).
// A node's domain is its type unless properties.domain is a non-empty string; an update that changes
// it moves the node to the end of its new domain.
//
// Each domain is a doubly linked list over node-state's node handles (two Int32Array columns, 8
// bytes per node; a Set of id strings per domain cost ~40 bytes per node and ~0.5 s of a 1M-event
// checkpoint load). It is applied *before* node-state and reads nodes there through `NodeTable`: on
// an update or delete it still sees the node as it was, and a created node gets the handle
// node-state is about to give it.

import { Packr } from 'msgpackr';
import { assert, checkpointCheck } from '../src/kernel/errors.js';
import { domainAfterUpdate, domainOf, type StoredEvent } from '../src/kernel/events.js';
import { CanonicalHash, sortedKeys } from './digest.js';
import { LinkedRows } from './columns.js';
import type { Projection } from './projection.js';


/** What the domain and cross-domain indexes read of node-state (the engine passes node-state itself). */
export interface NodeTable {
  /** The live node's handle, or -1. */
  handleOf(id: string): number;
  /** handleOf, for a lookup on the write path that later ones of the same batch repeat. */
  rememberHandleOf(id: string): number;
  typeAt(handle: number): string;
  domainAt(handle: number): string;
  idAt(handle: number): string;
  /** The handle the next prime.node.created will be given. */
  nextHandle(): number;
  /** One past the highest handle ever handed out. */
  readonly handleLimit: number;
}

interface SavedDomainIndex {
  format: 2;
  /** [domain, its node handles in order] per domain. */
  domains: Array<[string, Int32Array]>;
}

// moreTypes keeps the handle lists as Int32Arrays.
const checkpointCodec = new Packr({ useRecords: false, moreTypes: true, structuredClone: false });

/** A domain's list in `members`, and its length. */
interface DomainList {
  readonly list: number;
  size: number;
}

export class DomainIndex implements Projection {
  readonly name: 'domain-index' | 'type-index' = 'domain-index';
  private readonly lists = new Map<string, DomainList>();
  /** Each domain's nodes (lists by DomainList.list, rows by node handle). */
  private readonly members = new LinkedRows();
  private freeLists: number[] = [];

  constructor(protected readonly nodes: NodeTable) {}

  /** One page of a domain's node ids, in insertion order. O(offset + limit). */
  page(domain: string, offset: number, limit: number): { ids: string[]; total: number } {
    const list = this.lists.get(domain);
    if (list === undefined) return { ids: [], total: 0 };
    return { ids: this.members.slice(list.list, offset, limit).map((node) => this.nodes.idAt(node)), total: list.size };
  }

  /** Every domain with at least one node, in order of first appearance. */
  domains(): string[] {
    return Array.from(this.lists.keys());
  }

  /** Number of nodes in the domain. */
  size(domain: string): number {
    return this.lists.get(domain)?.size ?? 0;
  }

  apply(event: StoredEvent): void {
    switch (event.type) {
      case 'prime.node.created': {
        const p = event.payload;
        this.append(this.nodes.nextHandle(), domainOf(p.type, p.properties));
        return;
      }
      case 'prime.node.updated': {
        const handle = this.liveHandle(event.payload.id, event.seq);
        const old = this.nodes.domainAt(handle);
        const domain = domainAfterUpdate(this.nodes.typeAt(handle), old, event.payload.properties);
        if (domain === old) return;
        this.unlink(handle, old);
        this.append(handle, domain);
        return;
      }
      case 'prime.node.deleted': {
        const handle = this.liveHandle(event.payload.id, event.seq);
        this.unlink(handle, this.nodes.domainAt(handle));
        return;
      }
      default:
        return;
    }
  }

  protected liveHandle(id: string, seq: number): number {
    const handle = this.nodes.handleOf(id);
    if (handle < 0) assert(false, `event at seq ${seq} names unknown node ${id}`);
    return handle;
  }

  protected append(node: number, domain: string): void {
    this.members.growRows(node + 1);
    let list = this.lists.get(domain);
    if (list === undefined) {
      list = { list: this.freeLists.pop() ?? this.lists.size, size: 0 };
      this.members.growLists(list.list + 1);
      this.lists.set(domain, list);
    }
    this.members.append(list.list, node);
    list.size++;
  }

  protected unlink(node: number, domain: string): void {
    const list = this.lists.get(domain);
    if (list === undefined) assert(false, `node handle ${node} is not in domain ${domain}`);
    this.members.unlink(list.list, node);
    if (--list.size === 0) {
      this.lists.delete(domain);
      this.freeLists.push(list.list);
    }
  }

  /** Hashes each domain's membership by id; the order inside a domain is preserved by save/load but not hashed. */
  digest(): string {
    const hash = new CanonicalHash(this.name);
    for (const domain of sortedKeys(this.lists.keys())) {
      hash.row(domain, sortedKeys(Array.from(this.members.rows(this.lists.get(domain)!.list), (node) => this.nodes.idAt(node))));
    }
    return hash.hex();
  }

  async save(): Promise<Uint8Array> {
    const saved: SavedDomainIndex = { format: 2, domains: [] };
    for (const [domain, list] of this.lists) saved.domains.push([domain, this.members.rowsArray(list.list, list.size)]);
    return checkpointCodec.pack(saved);
  }

  /** Node-state must be loaded first: the saved lists are its handles. */
  async load(bytes: Uint8Array): Promise<void> {
    const saved = checkpointCodec.unpack(bytes) as SavedDomainIndex;
    checkpointCheck(saved.format === 2 && Array.isArray(saved.domains), this.name, `${this.name} checkpoint format ${String(saved.format)} is not supported`);
    this.lists.clear();
    this.members.clear();
    this.freeLists = [];
    const limit = this.nodes.handleLimit;
    this.members.growRows(limit);
    for (const [domain, handles] of saved.domains) {
      checkpointCheck(handles instanceof Int32Array && handles.length > 0, this.name, `${this.name} checkpoint: bad list for ${domain}`);
      for (const node of handles) {
        if (node < 0 || node >= limit) checkpointCheck(false, this.name, `${this.name} checkpoint: node handle ${node} out of range`);
        this.append(node, domain);
      }
    }
  }
}
