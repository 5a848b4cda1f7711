// Node state: id → the node's current record. The answer to getNode, and the source of nodesByType.

import { Packr } from 'msgpackr';
import { assert, checkpointCheck } from '../src/kernel/errors.js';
import { domainAfterUpdate, domainOf, isEmpty, noProperties, type Properties, type StoredEvent } from '../src/kernel/events.js';
import { CanonicalHash, sortedKeys } from './digest.js';
import { packWithRuns, unpackWithRuns, type SavedBytes } from './saved-runs.js';
import { ahead, CountedNames, grown, GrowthAhead, nextTurn, renumberRows, widenedFor, withHandle, type SmallIntColumn } from './columns.js';
import { IdTable, type ExactIdTable } from './id-table.js';
import { nodeJsonBytes, type JsonBytes } from '../src/kernel/wire.js';
import type { Projection } from './projection.js';

/** A node as getNode returns it: a fresh object each call, a snapshot a caller may keep. */
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

/** Where each of a node's three numbers sits in its run of `stamps`. */
const createdStamp = 0;
const updatedStamp = 1;
const versionStamp = 2;
const stampsPerNode = 3;

/** A node's record from its parts (getNode returns a fresh one each call). */
function makeRecord(id: string, type: string, domain: string, properties: Properties, createdAt: number, updatedAt: number, version: number): NodeRecord {
  return { id, type, domain, properties, createdAt, updatedAt, version };
}

/** Columns by handle, as the table's handles are; a free handle's rows hold anything. */
interface SavedNodeState {
  /** 8: by handle (7 gathered live nodes, 6 packed properties in one piece, 5 kept the id table's characters, 4 no domains): older ones read as unsupported. */
  format: 8;
  /** The id → handle table as it is (handles survive a restart exactly), without the ids: */
  handles: ExactIdTable;
  /** Index into typeNames. */
  types: SmallIntColumn;
  typeNames: string[];
  /** Index into domainNames. */
  domains: SmallIntColumn;
  domainNames: string[];
  /** Per handle its created ts, updated ts and version, as the live column holds them. */
  stamps: Float64Array;
  /** Each the pack of [ids, properties] of up to chunkRows handles, in order (null for a free handle): packed one a turn, so appends run between them. */
  chunks: Uint8Array[];
}

/**
 * Slots of the remembered-handle cache (direct-mapped, a power of two): a 1000-event batch of edges
 * names ~1100 distinct nodes, and a slot two ids share keeps the later one (the other falls back to
 * the id table).
 */
const rememberSlots = 8192;

/**
 * A node id's slot in the remembered-handle cache, from its length and last four chars (where ids
 * differ: counters, random suffixes), so finding a slot reads 4 chars, not the whole id.
 */
function rememberSlotOf(id: string): number {
  const n = id.length;
  let h = n;
  for (let i = n > 4 ? n - 4 : 0; i < n; i++) h = h * 31 + id.charCodeAt(i);
  return Math.imul(h, 0x9e3779b1) >>> (32 - 13);
}

// Records: properties of one shape have their keys written once (useRecords); moreTypes keeps
// the number columns typed arrays, which decode as one copy.
const checkpointCodec = new Packr({ useRecords: true, moreTypes: true, structuredClone: false });
/**
 * Handles whose ids and properties a save packs per turn. Packing 20,000 nodes' properties in one
 * piece held the event loop 100–200 ms under the soak's ingest (docs/reliability.md); a chunk takes a few ms.
 */
const chunkRows = 2_048;

/**
 * Each live node has a small integer handle, dense and reused after a delete. Other projections
 * (adjacency) index their own columns by it and reach a node's parts by handle: an array read
 * instead of hashing an id string.
 *
 * Nodes are rows in columns, not objects (memory: ~45 bytes a node plus its id and properties,
 * where a record object with its two boxed timestamps cost ~120). Reads build a fresh NodeRecord.
 */
export class NodeState implements Projection {
  readonly name = 'node-state';
  /**
   * id → handle, and handle → id (the id strings themselves: the text index and reads share them).
   * An IdTable, not a Map: it restores from a checkpoint by copying arrays.
   */
  private handles = new IdTable({ keepStrings: true });
  // ---- per node, by handle (a free handle's id and properties are undefined) ----
  private properties: Properties[] = [];
  private typeHandles: SmallIntColumn = new Uint8Array(0);
  private domainHandles: SmallIntColumn = new Uint8Array(0);
  /** Per node its created ts, updated ts and version, side by side: a record read takes one cache miss for the three, not three. */
  private stamps = new Float64Array(0);
  private readonly types = new CountedNames();
  private readonly domains = new CountedNames();
  /** The columns by handle, grown ahead of need, a slice a turn (columns.ts: GrowthAhead). */
  private readonly rowGrowth = new GrowthAhead([
    ahead({ get: () => this.typeHandles, set: (next) => (this.typeHandles = next) }),
    ahead({ get: () => this.domainHandles, set: (next) => (this.domainHandles = next) }),
    ahead({ get: () => this.stamps, set: (next) => (this.stamps = next), rowsPerHandle: stampsPerNode }),
  ]);
  /**
   * Per node, by handle, its wire JSON once a read has asked for it; cleared whenever the node's
   * row changes (created at a reused handle, updated, deleted) and on load. A neighbours page is
   * then a concatenation of these, without building a record per row: a 23-row page, engine and
   * JSON, took ~4.2 µs as records walked into JSON and ~2.2 µs from these, in process. The bytes are
   * shared with the wire's cache keyed by the version's properties object, so a node read both ways
   * is held once.
   */
  private json: Array<JsonBytes | undefined> = [];
  /**
   * Live nodes looked up for the batch being written, by id. An edge event's two ends are looked
   * up three times: by validation, then by the cross-domain index and adjacency as the batch is
   * applied. Validation and the cross-domain index remember what they find (rememberHandleOf), and
   * the lookups after them hit here, where the id table costs three cache misses at 1M nodes (its
   * slots, the handle → id array, the id string). The engine forgets it all once a batch is
   * applied, so a read between appends pays one flag check.
   *
   * A direct-mapped cache (id string and handle per slot, the slot from the id's last chars), not
   * a Map: the Map, cleared after every batch, grew its table again from 4 to 2048 entries each
   * batch (rememberHandleOf was 7% of a 1M-event durable ingest's CPU profile); here a lookup of
   * the same string object is a pointer compare.
   */
  private readonly rememberedIds: Array<string | undefined> = new Array<string | undefined>(rememberSlots).fill(undefined);
  private readonly rememberedHandles = new Int32Array(rememberSlots);
  private rememberedAny = false;

  /** The node's record, fresh. */
  get(id: string): NodeRecord | undefined {
    const handle = this.handleOf(id);
    return handle < 0 ? undefined : this.recordAt(handle);
  }

  has(id: string): boolean {
    return this.handleOf(id) >= 0;
  }

  /** The node's handle, or -1 for no such node. */
  handleOf(id: string): number {
    if (this.rememberedAny) {
      const slot = rememberSlotOf(id);
      if (this.rememberedIds[slot] === id) return this.rememberedHandles[slot]!;
    }
    return this.handles.get(id);
  }

  /** handleOf, remembering a live node's handle until forgetRemembered (for the lookups of the batch being written). */
  rememberHandleOf(id: string): number {
    const slot = rememberSlotOf(id);
    if (this.rememberedIds[slot] === id) return this.rememberedHandles[slot]!;
    const handle = this.handles.get(id);
    if (handle >= 0) {
      this.rememberedIds[slot] = id;
      this.rememberedHandles[slot] = handle;
      this.rememberedAny = true;
    }
    return handle;
  }

  private forgetRememberedId(id: string): void {
    const slot = rememberSlotOf(id);
    if (this.rememberedIds[slot] === id) this.rememberedIds[slot] = undefined;
  }

  forgetRemembered(): void {
    if (!this.rememberedAny) return;
    this.rememberedIds.fill(undefined);
    this.rememberedAny = false;
  }

  /** The id of a live handle. */
  idAt(handle: number): string {
    return this.handles.idOf(handle);
  }

  typeAt(handle: number): string {
    return this.types.nameOf(this.typeHandles[handle]!);
  }

  domainAt(handle: number): string {
    return this.domains.nameOf(this.domainHandles[handle]!);
  }

  /** The node's properties (the stored object: do not mutate), or undefined for no such node. */
  propertiesOf(id: string): Properties | undefined {
    const handle = this.handleOf(id);
    return handle < 0 ? undefined : this.properties[handle];
  }

  /** The node's type, or undefined for no such node. */
  typeOfNode(id: string): string | undefined {
    const handle = this.handleOf(id);
    return handle < 0 ? undefined : this.typeAt(handle);
  }

  /** The record of a live handle, fresh. */
  recordAt(handle: number): NodeRecord {
    const at = handle * stampsPerNode;
    return makeRecord(this.handles.idOf(handle), this.typeAt(handle), this.domainAt(handle), this.properties[handle]!, this.stamps[at + createdStamp]!, this.stamps[at + updatedStamp]!, this.stamps[at + versionStamp]!);
  }

  /** The wire JSON of a live handle's node (as an HTTP answer holding its record writes it), cached until the node changes. */
  jsonAt(handle: number): JsonBytes {
    return (this.json[handle] ??= nodeJsonBytes(this.recordAt(handle)));
  }

  /** The handle the next prime.node.created will be given (projections applied before node-state index by it). */
  nextHandle(): number {
    return this.handles.nextHandle();
  }

  /** One past the highest handle ever handed out: columns indexed by handle need this many rows. */
  get handleLimit(): number {
    return this.handles.handleLimit;
  }

  get count(): number {
    return this.handles.size;
  }

  /** Node ids by handle. Do not create or delete nodes while iterating. */
  *ids(): IterableIterator<string> {
    for (const handle of this.handles.handles()) yield this.handles.idOf(handle);
  }

  countsByType(): Record<string, number> {
    return this.types.counted();
  }

  apply(event: StoredEvent): void {
    switch (event.type) {
      case 'prime.node.created': {
        const { id, properties } = event.payload;
        const props = isEmpty(properties) ? noProperties : properties;
        const handle = this.handles.add(id);
        this.ensureRows(handle + 1);
        this.rowGrowth.note(handle + 1, this.typeHandles.length);
        this.properties[handle] = props;
        this.json[handle] = undefined;
        this.typeHandles = withHandle(this.typeHandles, handle, this.types.hold(event.payload.type));
        this.domainHandles = withHandle(this.domainHandles, handle, this.domains.hold(domainOf(event.payload.type, props)));
        this.setStamps(handle, event.ts, event.ts, event.seq);
        return;
      }
      case 'prime.node.updated': {
        const handle = this.handleOf(event.payload.id);
        if (handle < 0) assert(false, `node.updated for unknown node ${event.payload.id} at seq ${event.seq}`);
        const changes = event.payload.properties;
        this.properties[handle] = mergeProperties(this.properties[handle]!, changes);
        this.json[handle] = undefined;
        const domain = this.domainAt(handle);
        const next = domainAfterUpdate(this.typeAt(handle), domain, changes);
        if (next !== domain) {
          this.domains.release(this.domainHandles[handle]!);
          this.domainHandles = withHandle(this.domainHandles, handle, this.domains.hold(next));
        }
        this.stamps[handle * stampsPerNode + updatedStamp] = event.ts;
        this.stamps[handle * stampsPerNode + versionStamp] = event.seq;
        return;
      }
      case 'prime.node.deleted': {
        const handle = this.handleOf(event.payload.id);
        if (handle < 0) assert(false, `node.deleted for unknown node ${event.payload.id} at seq ${event.seq}`);
        this.types.release(this.typeHandles[handle]!);
        this.domains.release(this.domainHandles[handle]!);
        this.forgetRememberedId(event.payload.id);
        this.handles.remove(handle);
        this.properties[handle] = noProperties;
        this.json[handle] = undefined;
        return;
      }
      default:
        return;
    }
  }

  private setStamps(handle: number, createdAt: number, updatedAt: number, version: number): void {
    const at = handle * stampsPerNode;
    this.stamps[at + createdStamp] = createdAt;
    this.stamps[at + updatedStamp] = updatedAt;
    this.stamps[at + versionStamp] = version;
  }

  private ensureRows(rows: number): void {
    this.typeHandles = grown(this.typeHandles, rows);
    this.domainHandles = grown(this.domainHandles, rows);
    this.stamps = grown(this.stamps, rows * stampsPerNode);
  }

  digest(): string {
    const hash = new CanonicalHash(this.name);
    for (const id of sortedKeys(this.ids())) {
      const n = this.get(id)!;
      hash.row(n.id, n.type, n.domain, n.properties, n.createdAt, n.updatedAt, n.version);
    }
    return hash.hex();
  }

  /**
   * Snapshots synchronously (the table, copies of the columns by handle), then renumbers types and
   * domains and packs ids with properties in slices: appends may run between them. Nothing is
   * gathered into live-node order: at 455K nodes that touched ~15 MB of fresh pages more.
   */
  async save(): Promise<SavedBytes> {
    const end = this.handles.handleLimit;
    const handles = this.handles.saveExact({ slots: true });
    const idsNow = this.handles.stringsNow();
    const propertiesNow = this.properties.slice(0, end);
    const types = this.types.renumbering();
    const domains = this.domains.renumbering();
    const saved: SavedNodeState = {
      format: 8,
      handles,
      types: this.typeHandles.slice(0, end),
      typeNames: types.names,
      domains: this.domainHandles.slice(0, end),
      domainNames: domains.names,
      stamps: this.stamps.slice(0, end * stampsPerNode),
      chunks: [],
    };
    await renumberRows(saved.types, handles.lengths, types);
    await renumberRows(saved.domains, handles.lengths, domains);
    for (let from = 0; from < end; from += chunkRows) {
      await nextTurn();
      const to = Math.min(end, from + chunkRows);
      const ids = new Array<string | null>(to - from);
      const properties = new Array<Properties | null>(to - from);
      for (let handle = from; handle < to; handle++) {
        const live = handles.lengths[handle] !== 0;
        ids[handle - from] = live ? idsNow[handle]! : null;
        properties[handle - from] = live ? propertiesNow[handle]! : null;
      }
      saved.chunks.push(checkpointCodec.pack([ids, properties]));
    }
    return packWithRuns(checkpointCodec, saved);
  }

  async load(bytes: Uint8Array): Promise<void> {
    const saved = unpackWithRuns(checkpointCodec, bytes, this.name) as SavedNodeState;
    checkpointCheck(saved.format === 8 && Array.isArray(saved.chunks), 'node-state', `node-state checkpoint format ${String(saved.format)} is not supported`);
    const limit = saved.handles.lengths.length;
    const ids = new Array<string | undefined>(limit);
    const properties = new Array<Properties>(limit).fill(noProperties);
    let at = 0;
    for (const chunk of saved.chunks) {
      const [chunkIds, chunkProperties] = checkpointCodec.unpack(chunk) as [Array<string | null>, Array<Properties | null>];
      checkpointCheck(Array.isArray(chunkIds) && Array.isArray(chunkProperties) && chunkIds.length === chunkProperties.length && at + chunkIds.length <= limit, 'node-state', 'node-state checkpoint: a chunk of ids and properties that does not fit');
      for (let i = 0; i < chunkIds.length; i++, at++) {
        if (saved.handles.lengths[at] === 0) continue;
        ids[at] = chunkIds[i] ?? undefined;
        const own = chunkProperties[i];
        properties[at] = own === null || own === undefined || isEmpty(own) ? noProperties : own;
      }
    }
    checkpointCheck(at === limit && [saved.types, saved.domains].every((column) => column.length === limit) && saved.stamps.length === limit * stampsPerNode, 'node-state', 'node-state checkpoint: columns differ in length');
    const handles = IdTable.loadExact(saved.handles, ids);
    this.forgetRemembered();
    this.handles = handles;
    this.properties = properties;
    this.json = new Array<JsonBytes | undefined>(limit).fill(undefined);
    this.typeHandles = widenedFor(new Uint8Array(limit), saved.typeNames.length - 1);
    this.domainHandles = widenedFor(new Uint8Array(limit), saved.domainNames.length - 1);
    this.stamps = saved.stamps.slice();
    this.types.restore(saved.typeNames);
    this.domains.restore(saved.domainNames);
    for (const handle of handles.liveHandles()) {
      const type = saved.types[handle]!;
      const domain = saved.domains[handle]!;
      if (!(type < saved.typeNames.length && domain < saved.domainNames.length)) checkpointCheck(false, 'node-state', `node-state checkpoint: bad type or domain at handle ${handle}`);
      this.types.holdHandle(type);
      this.domains.holdHandle(domain);
      this.typeHandles[handle] = type;
      this.domainHandles[handle] = domain;
    }
  }
}
