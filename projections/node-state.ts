// Node state: id → the node's current record. The answer to getNode, and the source of nodesByType.

import { Packr } from 'msgpackr';
import { assert } from '../src/errors.js';
import { domainAfterUpdate, domainOf, type Properties, type StoredEvent } from '../src/events.js';
import { CanonicalHash, sortedKeys } from './digest.js';
import { IdTable, type ExactIdTable } from './id-table.js';
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
  /** 4: the id table's slots carry hash tags (IdTable.saveExact); 3 had none, and reads as unsupported. */
  format: 4;
  /** The id → handle table as it is (handles survive a restart exactly). */
  handles: ExactIdTable;
  /** Per live node, in the order of the table's live handles (ascending): */
  ids: string[];
  /** Index into typeNames. */
  types: Int32Array;
  typeNames: string[];
  properties: Properties[];
  createdAt: Float64Array;
  updatedAt: Float64Array;
  versions: Float64Array;
}

// Records: properties of one shape have their keys written once (useRecords); moreTypes keeps
// the number columns typed arrays, which decode as one copy.
const checkpointCodec = new Packr({ useRecords: true, moreTypes: true, structuredClone: false });

/**
 * Each live node has a small integer handle, dense and reused after a delete. Other projections
 * (adjacency) index their own columns by it and reach a node's record with `recordAt(handle)`: an
 * array read instead of hashing an id string.
 */
export class NodeState implements Projection {
  readonly name = 'node-state';
  /** id → handle. An IdTable, not a Map: it restores from a checkpoint by copying arrays. */
  private handles = new IdTable();
  private records: Array<NodeRecord | undefined> = [];
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
    return this.handles.get(id);
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
    return this.handles.nextHandle();
  }

  /** One past the highest handle ever handed out: columns indexed by handle need this many rows. */
  get handleLimit(): number {
    return this.records.length;
  }

  get count(): number {
    return this.handles.size;
  }

  /** Node ids by handle. Do not create or delete nodes while iterating. */
  *ids(): IterableIterator<string> {
    for (const handle of this.handles.handles()) yield this.records[handle]!.id;
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
        const handle = this.handles.add(id);
        this.records[handle] = makeRecord(id, type, domainOf(type, props), props, event.ts, event.ts, event.seq);
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
        this.handles.remove(handle);
        this.records[handle] = undefined;
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
    for (const id of sortedKeys(this.ids())) {
      const n = this.get(id)!;
      hash.row(n.id, n.type, n.domain, n.properties, n.createdAt, n.updatedAt, n.version);
    }
    return hash.hex();
  }

  async save(): Promise<Uint8Array> {
    const count = this.handles.size;
    const typeIndex = new Map<string, number>();
    const saved: SavedNodeState = {
      format: 4,
      handles: this.handles.saveExact(),
      ids: [],
      types: new Int32Array(count),
      typeNames: [],
      properties: [],
      createdAt: new Float64Array(count),
      updatedAt: new Float64Array(count),
      versions: new Float64Array(count),
    };
    let i = 0;
    for (const handle of this.handles.handles()) {
      const n = this.records[handle]!;
      let type = typeIndex.get(n.type);
      if (type === undefined) {
        type = saved.typeNames.push(n.type) - 1;
        typeIndex.set(n.type, type);
      }
      saved.ids.push(n.id);
      saved.types[i] = type;
      saved.properties.push(n.properties);
      saved.createdAt[i] = n.createdAt;
      saved.updatedAt[i] = n.updatedAt;
      saved.versions[i] = n.version;
      i++;
    }
    return checkpointCodec.pack(saved);
  }

  async load(bytes: Uint8Array): Promise<void> {
    const saved = checkpointCodec.unpack(bytes) as SavedNodeState;
    assert(saved.format === 4, `node-state checkpoint format ${String(saved.format)} is not supported`);
    const handles = IdTable.loadExact(saved.handles);
    const count = saved.ids.length;
    assert(count === handles.size && [saved.types, saved.properties, saved.createdAt, saved.updatedAt, saved.versions].every((column) => column.length === count), 'node-state checkpoint: columns differ in length');
    this.handles = handles;
    this.records = new Array<NodeRecord | undefined>(handles.handleLimit);
    this.types.clear();
    const types = saved.typeNames.map((type): TypeCount => ({ type, count: 0 }));
    let i = 0;
    for (const handle of handles.handles()) {
      const type = types[saved.types[i]!];
      if (type === undefined) assert(false, `node-state checkpoint: bad type in row ${i}`);
      type.count++;
      const props = isEmpty(saved.properties[i]!) ? noProperties : saved.properties[i]!;
      this.records[handle] = makeRecord(saved.ids[i]!, type.type, domainOf(type.type, props), props, saved.createdAt[i]!, saved.updatedAt[i]!, saved.versions[i]!);
      i++;
    }
    for (const entry of types) if (entry.count > 0) this.types.set(entry.type, entry);
  }
}
