// Node state: id → the node's current record. The answer to getNode, and the source of nodesByType.

import { Packr } from 'msgpackr';
import { assert } from '../src/errors.js';
import { domainAfterUpdate, domainOf, type Properties, type StoredEvent } from '../src/events.js';
import { CanonicalHash, sortedKeys } from './digest.js';
import type { Projection } from './registry.js';

/** A node as getNode returns it. Records are replaced, never mutated, on update: a caller may keep one as a snapshot but must not mutate it. */
export interface NodeRecord {
  readonly id: string;
  readonly type: string;
  readonly domain: string;
  readonly properties: Properties;
  /** ts of the prime.node.created event. */
  readonly createdAt: number;
  /** ts of the last event that changed this node. */
  readonly updatedAt: number;
  /** seq of the last event that changed this node. */
  readonly version: number;
}

/** Shared by every node without properties: most graphs have many, and an empty object costs 56 bytes each. */
const noProperties: Properties = Object.freeze({}) as Properties;

function isEmpty(object: object): boolean {
  for (const _ in object) return false;
  return true;
}

/**
 * Shallow merge of an update into a node's properties; a null value removes the key. Builds a new object
 * (never deletes from one: `delete` turns a V8 object into a slower, larger dictionary) and keeps the
 * existing keys' order, new keys last.
 */
function mergeProperties(base: Properties, changes: Properties): Properties {
  const merged: Properties = {};
  for (const key in base) {
    if (!Object.hasOwn(changes, key)) merged[key] = base[key]!;
    else if (changes[key] !== null) merged[key] = changes[key]!;
  }
  for (const key in changes) {
    if (!Object.hasOwn(base, key) && changes[key] !== null) merged[key] = changes[key]!;
  }
  return isEmpty(merged) ? noProperties : merged;
}

function makeRecord(id: string, type: string, domain: string, properties: Properties, createdAt: number, updatedAt: number, version: number): NodeRecord {
  return { id, type, domain, properties, createdAt, updatedAt, version };
}

/** Count of live nodes of one type; the entry's `type` is the one string instance every node of that type shares. */
interface TypeCount { readonly type: string; count: number }

interface SavedNodeState {
  format: 2;
  ids: string[];
  /** Each node's handle (parallel to ids), and the free handles in reuse order: handles survive a restart exactly. */
  handles: number[];
  freeHandles: number[];
  types: string[];
  properties: Properties[];
  createdAt: number[];
  updatedAt: number[];
  versions: number[];
}

// Records: every node row has the same shape, so msgpackr writes its keys once (useRecords).
const checkpointCodec = new Packr({ useRecords: true, moreTypes: false, structuredClone: false });

/**
 * Each live node has a small integer handle, dense and reused after a delete. Other projections
 * (adjacency) index their own columns by it and reach a node's record with `recordAt(handle)`: an
 * array read instead of hashing an id string.
 */
export class NodeState implements Projection {
  readonly name = 'node-state';
  private handles = new Map<string, number>();
  private records: Array<NodeRecord | undefined> = [];
  private freeHandles: number[] = [];
  private readonly types = new Map<string, TypeCount>();

  /** The stored record (a snapshot: updates replace it). Callers must not mutate it. */
  get(id: string): NodeRecord | undefined {
    const handle = this.handleOf(id);
    return handle < 0 ? undefined : this.records[handle];
  }

  has(id: string): boolean {
    return this.handleOf(id) >= 0;
  }

  /** The node's handle, or -1 for no such node. */
  handleOf(id: string): number {
    return this.handles.get(id) ?? -1;
  }

  /** The id of a live handle. */
  idAt(handle: number): string {
    return this.records[handle]!.id;
  }

  /** The record of a live handle. */
  recordAt(handle: number): NodeRecord {
    return this.records[handle]!;
  }

  /** The handle the next prime.node.created will be given (projections applied before node-state index by it). */
  nextHandle(): number {
    return this.freeHandles.length > 0 ? this.freeHandles[this.freeHandles.length - 1]! : this.records.length;
  }

  /** One past the highest handle ever handed out: columns indexed by handle need this many rows. */
  get handleLimit(): number {
    return this.records.length;
  }

  get count(): number {
    return this.handles.size;
  }

  /** Node ids in creation order. Do not create or delete nodes while iterating. */
  ids(): IterableIterator<string> {
    return this.handles.keys();
  }

  countsByType(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const { type, count } of this.types.values()) counts[type] = count;
    return counts;
  }

  apply(event: StoredEvent): void {
    switch (event.type) {
      case 'prime.node.created': {
        const { id, properties } = event.payload;
        const type = this.countType(event.payload.type, +1);
        const props = isEmpty(properties) ? noProperties : properties;
        const handle = this.freeHandles.pop() ?? this.records.length;
        this.records[handle] = makeRecord(id, type, domainOf(type, props), props, event.ts, event.ts, event.seq);
        this.handles.set(id, handle);
        return;
      }
      case 'prime.node.updated': {
        const handle = this.handleOf(event.payload.id);
        if (handle < 0) assert(false, `node.updated for unknown node ${event.payload.id} at seq ${event.seq}`);
        const old = this.records[handle]!;
        const changes = event.payload.properties;
        const props = mergeProperties(old.properties, changes);
        const domain = domainAfterUpdate(old.type, old.domain, changes);
        this.records[handle] = makeRecord(old.id, old.type, domain, props, old.createdAt, event.ts, event.seq);
        return;
      }
      case 'prime.node.deleted': {
        const handle = this.handleOf(event.payload.id);
        if (handle < 0) assert(false, `node.deleted for unknown node ${event.payload.id} at seq ${event.seq}`);
        this.countType(this.records[handle]!.type, -1);
        this.handles.delete(event.payload.id);
        this.records[handle] = undefined;
        this.freeHandles.push(handle);
        return;
      }
      default:
        return;
    }
  }

  /** Adjusts a type's count and returns its shared string instance. */
  private countType(type: string, delta: number): string {
    let entry = this.types.get(type);
    if (entry === undefined) {
      entry = { type, count: 0 };
      this.types.set(type, entry);
    }
    entry.count += delta;
    if (entry.count === 0) this.types.delete(type);
    return entry.type;
  }

  digest(): string {
    const hash = new CanonicalHash(this.name);
    for (const id of sortedKeys(this.handles.keys())) {
      const n = this.get(id)!;
      hash.row(n.id, n.type, n.domain, n.properties, n.createdAt, n.updatedAt, n.version);
    }
    return hash.hex();
  }

  async save(): Promise<Uint8Array> {
    const saved: SavedNodeState = { format: 2, ids: [], handles: [], freeHandles: [...this.freeHandles], types: [], properties: [], createdAt: [], updatedAt: [], versions: [] };
    for (const [id, handle] of this.handles) {
      const n = this.records[handle]!;
      saved.ids.push(id);
      saved.handles.push(handle);
      saved.types.push(n.type);
      saved.properties.push(n.properties);
      saved.createdAt.push(n.createdAt);
      saved.updatedAt.push(n.updatedAt);
      saved.versions.push(n.version);
    }
    return checkpointCodec.pack(saved);
  }

  async load(bytes: Uint8Array): Promise<void> {
    const saved = checkpointCodec.unpack(bytes) as SavedNodeState;
    assert(saved.format === 2, `node-state checkpoint format ${String(saved.format)} is not supported`);
    this.handles = new Map();
    this.records = new Array<NodeRecord | undefined>(saved.ids.length + saved.freeHandles.length);
    this.freeHandles = saved.freeHandles;
    this.types.clear();
    for (let i = 0; i < saved.ids.length; i++) {
      const id = saved.ids[i]!;
      const handle = saved.handles[i]!;
      if (!Number.isInteger(handle) || handle < 0 || handle >= this.records.length || this.records[handle] !== undefined) assert(false, `node-state checkpoint: bad handle ${handle}`);
      const type = this.countType(saved.types[i]!, +1);
      const props = isEmpty(saved.properties[i]!) ? noProperties : saved.properties[i]!;
      this.records[handle] = makeRecord(id, type, domainOf(type, props), props, saved.createdAt[i]!, saved.updatedAt[i]!, saved.versions[i]!);
      this.handles.set(id, handle);
    }
  }
}
