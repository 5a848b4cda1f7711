// The merge rules of replicated mode, as one projection. Every event that carries an `hlc` (local
// writes in replicated mode and events received from other origins) goes through `expand` first,
// which updates the merge state and returns the events the other projections apply literally to
// show the merged result. The log keeps the events as their writers wrote them; replaying the log
// through `expand` rebuilds the merge state and the same effects, so replay reproduces state
// exactly, and a checkpoint carries this state like any projection's.
//
// The rules, the same on every machine whatever the order of arrival (each event's stamp is its
// `hlc + origin`, a total order):
// - Properties: last writer wins per property. A create writes each of its properties; an update
//   writes the keys it names (null: the key is removed, also by last-writer-wins).
// - A node's type is its newest create's type.
// - Node delete wins: the node is tombstoned at the delete's stamp, and every property write at or
//   before the tombstone is dropped. The node is alive while its newest create is newer than its
//   newest delete: a re-create is accepted only with a newer stamp than the tombstone.
// - An edge is shown while its newest create is newer than its newest delete, both of its ends are
//   alive, and it was created after each end's tombstone: a node delete cascades to every edge of
//   the node, including edges this machine had and the deleting origin did not.
// - Vectors: last writer wins between stores and deletes. A vector under a node's id shows only
//   while that node is alive and the vector is newer than its tombstone (the delete cascades);
//   a vector whose id names no node this machine knows of stands alone, as local vectors may.
// - An update or edge that names a node this machine has never seen is kept (a pending node) and
//   takes effect when the node arrives; the number of pending nodes is bounded.

import { Packr, unpackMultiple } from 'msgpackr';

import { nextTurn } from '../../projections/columns.js';
import type { Projection } from '../../projections/projection.js';
import { CanonicalHash, sortedKeys } from '../../projections/digest.js';
import { assert, mnemoError } from '../kernel/errors.js';
import { packJson } from '../kernel/event-codec.js';
import { noProperties, type JsonValue, type Properties, type RawEvent, type StoredEvent, type VectorStored } from '../kernel/events.js';
import { stampOf } from './hlc.js';

/** Nodes that updates or edges named before any create or delete of them arrived. Past it such events are dropped and counted: a bound on what a stream filled in a bad order can make us hold. */
export const pendingNodesMax = 100_000;
/**
 * Version of the saved merge state; a checkpoint of another version is refused (the engine replays
 * instead). Format 2: a header `[2, newest, pendingDropped, duplicates]`, then chunks `[kind, rows]`
 * (kind 0 nodes, 1 edges, 2 vectors), one msgpack value after another.
 */
const mergeFormat = 2;
/**
 * Records a save encodes between two turns of the event loop (tens of ms on this machine's shared
 * cores). Slices of 4,096 measured worse in bench:replication: publish-to-visible p99 82–155 ms
 * against 10–14 ms at 32,768 and at one slice (not understood yet).
 */
export const mergeSaveSliceRows = 32_768;
const nodeKind = 0;
const edgeKind = 1;
const vectorKind = 2;

/** The empty registers and edge list every new node shares; never written (link and setRegister replace an empty list). */
const none = Object.freeze([]) as unknown as never[];

/** Registers a node holds as a flat array up to this many; past it, a Map (an update's lookups stay O(1) on a wide node). */
const registersFlatMax = 8;

interface Register {
  value: JsonValue;
  stamp: string;
}

/**
 * A node's property registers (the newest write of each key and its stamp). Most nodes hold a few
 * properties: as `[key, value, stamp, key, value, stamp, …]` they cost one small array instead of
 * a Map and an object a key. With edge lists of records (not a Set of ids) this took an engine that
 * received 100K nodes and 100K edges from 135 to 120 MB of heap, and its catch-up ~10% less CPU.
 */
type Registers = unknown[] | Map<string, Register>;

interface NodeRecord {
  /** The node's id (the same string as its key in the merge's map). */
  id: string;
  /** The newest create's type; '' before any create. */
  type: string;
  /** Stamp of the newest create, '' when none arrived. */
  created: string;
  /** Stamp of the newest delete, '' when none arrived. */
  tomb: string;
  /** Property registers, all newer than `tomb`. */
  props: Registers;
  /**
   * Edges naming this node (as source or target), shown or waiting; a self-loop is here twice. An
   * edge leaves only when it is re-created between other nodes, so an array (removal is a scan).
   */
  edges: EdgeRecord[];
  /** The type the node is shown with; undefined while not shown. */
  shownType: string | undefined;
  /** The last save that encoded this record (see ReplicaMerge.save). */
  saved: number;
}

interface EdgeRecord {
  id: string;
  /** Its ends: undefined until a create arrives (a delete may come first). */
  source: NodeRecord | undefined;
  target: NodeRecord | undefined;
  relation: string;
  weight: number;
  properties: Properties;
  created: string;
  tomb: string;
  shown: boolean;
  /** A newer create changed what is shown: show it again. */
  dirty: boolean;
  saved: number;
}

interface VectorRecord {
  id: string;
  stamp: string;
  /** The newest store, or undefined when the newest write is a delete. */
  payload: VectorStored | undefined;
  shown: boolean;
  dirty: boolean;
  saved: number;
}

/** A save in progress: its number, and the rows of records it encoded early, before an event changed them. */
interface Saving {
  epoch: number;
  early: [unknown[], unknown[], unknown[]];
}

export interface MergeStats {
  /** Nodes waiting for their create. */
  pendingNodes: number;
  /** Events dropped because pendingNodesMax was reached. */
  pendingDropped: number;
  /** Events ignored because their origin's newer events were already merged (a redelivery). */
  duplicates: number;
}

/** An event that carries replication's envelope. */
export type ReplicatedEvent = StoredEvent & { hlc: string; origin: string };

const packr = new Packr({ useRecords: false, moreTypes: true });

export class ReplicaMerge implements Projection {
  readonly name = 'replica-merge';
  /** Checkpoints written before replication existed have no part for this projection; it starts empty then. */
  readonly optionalInCheckpoint = true;
  private nodes = new Map<string, NodeRecord>();
  private edges = new Map<string, EdgeRecord>();
  private vectors = new Map<string, VectorRecord>();
  /** origin → the newest hlc merged from it: an origin's stamps only grow, so anything not newer is a redelivery. */
  private newest = new Map<string, string>();
  private pendingNodes = 0;
  private pendingDropped = 0;
  private duplicates = 0;
  private out: RawEvent[] = [];
  private saveEpoch = 0;
  private saving: Saving | undefined;
  /** Records per slice of a save; tests set 1 to interleave events with every record. */
  saveSliceRows = mergeSaveSliceRows;

  /** The events are applied by `expand`, which the registry calls instead for events with an hlc. */
  apply(): void {}

  /** Whether an event of `origin` stamped `hlc` was already merged. */
  seen(origin: string, hlc: string): boolean {
    const newest = this.newest.get(origin);
    return newest !== undefined && hlc <= newest;
  }

  /** The newest hlc merged from each origin. */
  newestByOrigin(): ReadonlyMap<string, string> {
    return this.newest;
  }

  stats(): MergeStats {
    return { pendingNodes: this.pendingNodes, pendingDropped: this.pendingDropped, duplicates: this.duplicates };
  }

  /** Merges one event and returns what the literal projections must apply to show the result. */
  expand(event: ReplicatedEvent): RawEvent[] {
    this.out = [];
    if (this.seen(event.origin, event.hlc)) {
      this.duplicates++;
      return this.out;
    }
    this.newest.set(event.origin, event.hlc);
    const stamp = stampOf(event.hlc, event.origin);
    switch (event.type) {
      case 'prime.node.created':
        this.nodeCreated(event.payload.id, event.payload.type, event.payload.properties, stamp);
        break;
      case 'prime.node.updated':
        this.nodeUpdated(event.payload.id, event.payload.properties, stamp);
        break;
      case 'prime.node.deleted':
        this.nodeDeleted(event.payload.id, stamp);
        break;
      case 'prime.edge.created':
        this.edgeCreated(event.payload, stamp);
        break;
      case 'prime.edge.deleted':
        this.edgeDeleted(event.payload.id, stamp);
        break;
      case 'prime.vector.stored':
        this.vectorWritten(event.payload.id, event.payload, stamp);
        break;
      case 'prime.vector.deleted':
        this.vectorWritten(event.payload.id, undefined, stamp);
        break;
    }
    return this.out;
  }

  // ---- nodes ----

  /** The node's record, made (pending) if new; undefined when the pending bound is reached. */
  private node(id: string): NodeRecord | undefined {
    let node = this.nodes.get(id);
    if (node !== undefined) return node;
    if (this.pendingNodes >= pendingNodesMax) {
      this.pendingDropped++;
      return undefined;
    }
    // Made during a save: not in its snapshot, so nothing to encode for it.
    node = { id, type: '', created: '', tomb: '', props: none, edges: none, shownType: undefined, saved: this.saveEpoch };
    this.nodes.set(id, node);
    this.pendingNodes++;
    return node;
  }

  private settle(node: NodeRecord, wasPending: boolean): void {
    if (wasPending && !isPending(node)) this.pendingNodes--;
  }

  private nodeCreated(id: string, type: string, properties: Properties, stamp: string): void {
    const node = this.node(id);
    if (node === undefined) return;
    this.preserve(node, nodeKind);
    const wasPending = isPending(node);
    if (stamp > node.created) {
      node.created = stamp;
      node.type = type;
    }
    const changed = writeProperties(node, properties, stamp);
    this.settle(node, wasPending);
    this.reconcileNode(id, node, changed);
  }

  private nodeUpdated(id: string, properties: Properties, stamp: string): void {
    const node = this.node(id);
    if (node === undefined) return;
    this.preserve(node, nodeKind);
    this.reconcileNode(id, node, writeProperties(node, properties, stamp));
  }

  private nodeDeleted(id: string, stamp: string): void {
    const node = this.node(id);
    if (node === undefined) return;
    const wasPending = isPending(node);
    if (stamp <= node.tomb) return;
    this.preserve(node, nodeKind);
    node.tomb = stamp;
    const changed = dropRegistersUpTo(node, stamp);
    this.settle(node, wasPending);
    this.reconcileNode(id, node, changed);
    // A delete older than a re-create keeps the node, but still cascades to what it predates.
    for (const edge of node.edges) this.reconcileEdge(edge);
    this.reconcileVector(id);
  }

  private reconcileNode(id: string, node: NodeRecord, changed: readonly string[]): void {
    const alive = node.created !== '' && node.created > node.tomb;
    if (!alive) {
      if (node.shownType !== undefined) this.hideNode(id, node);
      return;
    }
    if (node.shownType !== undefined && node.shownType !== node.type) this.hideNode(id, node);
    if (node.shownType === undefined) {
      this.out.push({ type: 'prime.node.created', payload: { id, type: node.type, properties: shownProperties(node) } });
      node.shownType = node.type;
      for (const edge of node.edges) this.reconcileEdge(edge);
      this.reconcileVector(id);
      return;
    }
    if (changed.length === 0) return;
    const changes: Properties = {};
    for (const key of changed) changes[key] = registerOf(node.props, key)?.value ?? null;
    this.out.push({ type: 'prime.node.updated', payload: { id, properties: changes } });
  }

  /** The cascade a shown node's removal needs: its shown edges, its shown vector, then the node. */
  private hideNode(id: string, node: NodeRecord): void {
    for (const edge of node.edges) {
      if (!edge.shown) continue;
      this.preserve(edge, edgeKind);
      edge.shown = false;
      this.out.push({ type: 'prime.edge.deleted', payload: { id: edge.id } });
    }
    const vector = this.vectors.get(id);
    if (vector?.shown === true) {
      this.preserve(vector, vectorKind);
      vector.shown = false;
      this.out.push({ type: 'prime.vector.deleted', payload: { id } });
    }
    node.shownType = undefined;
    this.out.push({ type: 'prime.node.deleted', payload: { id } });
  }

  // ---- edges ----

  private edgeRecord(id: string): EdgeRecord {
    let edge = this.edges.get(id);
    if (edge === undefined) {
      edge = { id, source: undefined, target: undefined, relation: '', weight: 1, properties: noProperties, created: '', tomb: '', shown: false, dirty: false, saved: this.saveEpoch };
      this.edges.set(id, edge);
    }
    return edge;
  }

  private edgeCreated(p: { id: string; source: string; target: string; relation: string; weight?: number; properties?: Properties }, stamp: string): void {
    const edge = this.edgeRecord(p.id);
    if (stamp <= edge.created) return;
    const source = this.node(p.source);
    const target = this.node(p.target);
    if (source === undefined || target === undefined) return;
    this.preserve(edge, edgeKind);
    if (edge.source !== source || edge.target !== target) {
      if (edge.source !== undefined) unlink(edge.source, edge);
      if (edge.target !== undefined) unlink(edge.target, edge);
      link(source, edge);
      link(target, edge);
      edge.source = source;
      edge.target = target;
    }
    edge.relation = p.relation;
    edge.weight = p.weight ?? 1;
    edge.properties = p.properties ?? noProperties;
    edge.created = stamp;
    edge.dirty = true;
    this.reconcileEdge(edge);
  }

  private edgeDeleted(id: string, stamp: string): void {
    const edge = this.edgeRecord(id);
    if (stamp <= edge.tomb) return;
    this.preserve(edge, edgeKind);
    edge.tomb = stamp;
    this.reconcileEdge(edge);
  }

  private reconcileEdge(edge: EdgeRecord): void {
    this.preserve(edge, edgeKind);
    const { id, source, target } = edge;
    const wanted = source !== undefined && target !== undefined && edge.created > edge.tomb && endShows(source, edge.created) && endShows(target, edge.created);
    if (edge.shown && (!wanted || edge.dirty)) {
      edge.shown = false;
      this.out.push({ type: 'prime.edge.deleted', payload: { id } });
    }
    if (wanted && !edge.shown) {
      edge.shown = true;
      this.out.push({
        type: 'prime.edge.created',
        payload: { id, source: source.id, target: target.id, relation: edge.relation, weight: edge.weight, properties: edge.properties },
      });
    }
    edge.dirty = false;
  }

  // ---- vectors ----

  private vectorWritten(id: string, payload: VectorStored | undefined, stamp: string): void {
    let vector = this.vectors.get(id);
    if (vector === undefined) {
      vector = { id, stamp: '', payload: undefined, shown: false, dirty: false, saved: this.saveEpoch };
      this.vectors.set(id, vector);
    }
    if (stamp <= vector.stamp) return;
    this.preserve(vector, vectorKind);
    vector.stamp = stamp;
    vector.payload = payload;
    vector.dirty = true;
    this.reconcileVector(id);
  }

  private reconcileVector(id: string): void {
    const vector = this.vectors.get(id);
    if (vector === undefined) return;
    this.preserve(vector, vectorKind);
    const node = this.nodes.get(id);
    const standsAlone = node === undefined || isPending(node);
    const wanted = vector.payload !== undefined && (standsAlone || (node.shownType !== undefined && vector.stamp > node.tomb));
    if (wanted && (!vector.shown || vector.dirty)) {
      vector.shown = true;
      this.out.push({ type: 'prime.vector.stored', payload: vector.payload! });
    } else if (!wanted && vector.shown) {
      vector.shown = false;
      this.out.push({ type: 'prime.vector.deleted', payload: { id } });
    }
    vector.dirty = false;
  }

  // ---- projection contract ----

  digest(): string {
    const hash = new CanonicalHash(this.name);
    for (const id of sortedKeys(this.nodes.keys())) {
      const n = this.nodes.get(id)!;
      const registers = new Map<string, Register>();
      forEachRegister(n.props, (key, value, stamp) => registers.set(key, { value, stamp }));
      const props = sortedKeys(registers.keys()).map((k) => [k, registers.get(k)!.value, registers.get(k)!.stamp]);
      hash.row('node', id, n.type, n.created, n.tomb, props, sortedKeys(new Set(n.edges.map((e) => e.id))), n.shownType ?? null);
    }
    for (const id of sortedKeys(this.edges.keys())) {
      const e = this.edges.get(id)!;
      hash.row('edge', id, e.source?.id ?? '', e.target?.id ?? '', e.relation, e.weight, e.properties, e.created, e.tomb, e.shown);
    }
    for (const id of sortedKeys(this.vectors.keys())) {
      const v = this.vectors.get(id)!;
      hash.row('vector', id, v.stamp, v.payload === undefined ? null : vectorRow(v.payload), v.shown);
    }
    for (const origin of sortedKeys(this.newest.keys())) hash.row('origin', origin, this.newest.get(origin)!);
    return hash.hex();
  }

  /**
   * Before an event changes a record while a save is in progress, encodes the record as the save
   * found it (once): the save then holds every record as of its start, without copying the state
   * up front (a synchronous save of 300K records held the event loop ~1.5 s mid catch-up).
   */
  private preserve(record: NodeRecord | EdgeRecord | VectorRecord, kind: 0 | 1 | 2): void {
    const saving = this.saving;
    if (saving === undefined || record.saved === saving.epoch) return;
    record.saved = saving.epoch;
    saving.early[kind].push(rowOf(record, kind));
  }

  /**
   * The state as of this call, encoded saveSliceRows records a turn: events applied meanwhile are
   * not in it (each record they change is encoded first, by preserve; records they make are not in
   * the lists taken here).
   */
  async save(): Promise<Uint8Array> {
    assert(this.saving === undefined, 'one merge save at a time');
    const saving: Saving = { epoch: ++this.saveEpoch, early: [[], [], []] };
    this.saving = saving;
    const chunks: Uint8Array[] = [packr.pack([mergeFormat, [...this.newest], this.pendingDropped, this.duplicates])];
    const lists: Array<ReadonlyArray<NodeRecord | EdgeRecord | VectorRecord>> = [Array.from(this.nodes.values()), Array.from(this.edges.values()), Array.from(this.vectors.values())];
    try {
      for (const kind of [nodeKind, edgeKind, vectorKind] as const) {
        const list = lists[kind]!;
        for (let start = 0; start < list.length; start += this.saveSliceRows) {
          if (start > 0) await nextTurn();
          const rows: unknown[] = [];
          for (let i = start; i < Math.min(start + this.saveSliceRows, list.length); i++) {
            const record = list[i]!;
            if (record.saved === saving.epoch) continue; // encoded early
            record.saved = saving.epoch;
            rows.push(rowOf(record, kind));
          }
          chunks.push(packChunk(kind, rows));
        }
      }
      for (const kind of [nodeKind, edgeKind, vectorKind] as const) if (saving.early[kind].length > 0) chunks.push(packChunk(kind, saving.early[kind]));
    } finally {
      this.saving = undefined;
    }
    return Buffer.concat(chunks);
  }

  async load(bytes: Uint8Array): Promise<void> {
    const values = unpackMultiple(bytes) as unknown[][];
    const header = values[0];
    if (!Array.isArray(header) || header[0] !== mergeFormat) {
      throw mnemoError('CHECKPOINT_CORRUPT', { file: this.name, reason: `merge state of format ${String(Array.isArray(header) ? header[0] : header)}, expected ${mergeFormat}` });
    }
    const [, newest, pendingDropped, duplicates] = header as [number, [string, string][], number, number];
    const rowsOf = (kind: number): unknown[][] => values.slice(1).flatMap((chunk) => (chunk[0] === kind ? (chunk[1] as unknown[][]) : []));
    this.nodes = new Map();
    this.edges = new Map();
    this.vectors = new Map();
    this.pendingNodes = 0;
    for (const [id, type, created, tomb, props, shownType] of rowsOf(nodeKind) as [string, string, string, string, unknown[], string | null][]) {
      const node: NodeRecord = { id, type, created, tomb, props: none, edges: none, shownType: shownType ?? undefined, saved: 0 };
      for (let i = 0; i < props.length; i += 3) setRegister(node, props[i] as string, props[i + 1] as JsonValue, props[i + 2] as string);
      this.nodes.set(id, node);
      if (isPending(node)) this.pendingNodes++;
    }
    for (const [id, source, target, relation, weight, properties, created, tomb, shown] of rowsOf(edgeKind) as [string, string, string, string, number, Properties, string, string, boolean][]) {
      // An edge's ends got their records when its create arrived: a saved edge naming no saved node is not ours.
      const ends = created === '' ? undefined : [this.nodes.get(source), this.nodes.get(target)];
      if (ends !== undefined && (ends[0] === undefined || ends[1] === undefined)) {
        throw mnemoError('CHECKPOINT_CORRUPT', { file: this.name, reason: `edge ${id} names a node the merge state does not hold` });
      }
      const edge: EdgeRecord = { id, source: ends?.[0], target: ends?.[1], relation, weight, properties, created, tomb, shown, dirty: false, saved: 0 };
      this.edges.set(id, edge);
      if (edge.source !== undefined) link(edge.source, edge);
      if (edge.target !== undefined) link(edge.target, edge);
    }
    for (const [id, stamp, payload, shown] of rowsOf(vectorKind) as [string, string, VectorStored | null, boolean][]) {
      this.vectors.set(id, { id, stamp, payload: payload ?? undefined, shown, dirty: false, saved: 0 });
    }
    this.newest = new Map(newest);
    this.pendingDropped = pendingDropped;
    this.duplicates = duplicates;
  }
}

/** A chunk of rows: nodes and edges hold only JSON values (the events' writer packs them); vectors hold float32 arrays (msgpackr). */
function packChunk(kind: 0 | 1 | 2, rows: unknown[]): Uint8Array {
  return kind === vectorKind ? packr.pack([kind, rows]) : packJson([kind, rows] as JsonValue);
}

/** A record's saved row; a node's registers are copied (the record's own array changes in place). */
function rowOf(record: NodeRecord | EdgeRecord | VectorRecord, kind: 0 | 1 | 2): unknown[] {
  if (kind === nodeKind) {
    const n = record as NodeRecord;
    const props: unknown[] = [];
    forEachRegister(n.props, (key, value, stamp) => props.push(key, value, stamp));
    return [n.id, n.type, n.created, n.tomb, props, n.shownType ?? null];
  }
  if (kind === edgeKind) {
    const e = record as EdgeRecord;
    return [e.id, e.source?.id ?? '', e.target?.id ?? '', e.relation, e.weight, e.properties, e.created, e.tomb, e.shown];
  }
  const v = record as VectorRecord;
  return [v.id, v.stamp, v.payload ?? null, v.shown];
}

function isPending(node: NodeRecord): boolean {
  return node.created === '' && node.tomb === '';
}

function endShows(node: NodeRecord, edgeStamp: string): boolean {
  return node.shownType !== undefined && edgeStamp > node.tomb;
}

/** Adds an edge to a node's list; the first makes a list of one (an empty `[]` grows to 16 slots on its first push). */
function link(node: NodeRecord, edge: EdgeRecord): void {
  if (node.edges.length === 0) node.edges = [edge];
  else node.edges.push(edge);
}

function unlink(node: NodeRecord, edge: EdgeRecord): void {
  const at = node.edges.indexOf(edge);
  if (at >= 0) node.edges.splice(at, 1);
}

/** Writes each property whose register this stamp wins; returns the keys whose register changed. */
function writeProperties(node: NodeRecord, properties: Properties, stamp: string): string[] {
  const changed: string[] = [];
  if (stamp <= node.tomb) return changed;
  for (const key in properties) {
    const current = registerStampOf(node.props, key);
    if (current !== undefined && current >= stamp) continue;
    setRegister(node, key, properties[key]!, stamp);
    changed.push(key);
  }
  return changed;
}

/** Removes every register written at or before `stamp` (a delete's); returns their keys. */
function dropRegistersUpTo(node: NodeRecord, stamp: string): string[] {
  const dropped: string[] = [];
  const props = node.props;
  if (props instanceof Map) {
    for (const [key, register] of props) {
      if (register.stamp > stamp) continue;
      props.delete(key);
      dropped.push(key);
    }
    return dropped;
  }
  let kept = 0;
  for (let i = 0; i < props.length; i += 3) {
    if ((props[i + 2] as string) <= stamp) {
      dropped.push(props[i] as string);
      continue;
    }
    props[kept] = props[i];
    props[kept + 1] = props[i + 1];
    props[kept + 2] = props[i + 2];
    kept += 3;
  }
  if (kept < props.length) props.length = kept;
  return dropped;
}

function registerOf(props: Registers, key: string): Register | undefined {
  if (props instanceof Map) return props.get(key);
  for (let i = 0; i < props.length; i += 3) if (props[i] === key) return { value: props[i + 1] as JsonValue, stamp: props[i + 2] as string };
  return undefined;
}

function registerStampOf(props: Registers, key: string): string | undefined {
  if (props instanceof Map) return props.get(key)?.stamp;
  for (let i = 0; i < props.length; i += 3) if (props[i] === key) return props[i + 2] as string;
  return undefined;
}

function setRegister(node: NodeRecord, key: string, value: JsonValue, stamp: string): void {
  const props = node.props;
  if (props instanceof Map) {
    props.set(key, { value, stamp });
    return;
  }
  for (let i = 0; i < props.length; i += 3) {
    if (props[i] !== key) continue;
    props[i + 1] = value;
    props[i + 2] = stamp;
    return;
  }
  if (props.length === 0) {
    node.props = [key, value, stamp]; // exactly three slots: most nodes are written once
    return;
  }
  if (props.length < 3 * registersFlatMax) {
    props.push(key, value, stamp);
    return;
  }
  const map = new Map<string, Register>();
  forEachRegister(props, (k, v, s) => map.set(k, { value: v, stamp: s }));
  map.set(key, { value, stamp });
  node.props = map;
}

function forEachRegister(props: Registers, visit: (key: string, value: JsonValue, stamp: string) => void): void {
  if (props instanceof Map) {
    for (const [key, register] of props) visit(key, register.value, register.stamp);
    return;
  }
  for (let i = 0; i < props.length; i += 3) visit(props[i] as string, props[i + 1] as JsonValue, props[i + 2] as string);
}

/** The properties a shown node has: every register but the removed (null) ones. */
function shownProperties(node: NodeRecord): Properties {
  const props: Properties = {};
  forEachRegister(node.props, (key, value) => {
    if (value !== null) props[key] = value;
  });
  return props;
}

function vectorRow(payload: VectorStored): unknown[] {
  return [payload.vector === undefined ? null : Array.from(payload.vector), payload.text ?? null, payload.metadata ?? null];
}
