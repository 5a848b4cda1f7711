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
//
// How the state is kept: a machine catching up merges every event it receives, so the state is
// built for that path. Nodes and edges are rows of typed-array columns found through IdTables
// (not records in Maps: at 500K nodes and 500K edges the records, their Map entries and their
// stamp strings were ~370 MB more heap, and a received event cost ~2.4× a local one, much of it in Map
// lookups and the garbage collector). A stamp is two numbers: the hlc's wall milliseconds, and its
// counter × originSlots + the origin's index in `origins` (origins are compared by name, so the
// order is the string order of `hlc + origin` whatever order this machine met the origins in).

import { Packr, unpackMultiple } from 'msgpackr';

import { CountedNames, grown, LinkedRows, nextTurn } from '../../projections/columns.js';
import { IdTable } from '../../projections/id-table.js';
import type { Projection } from '../../projections/projection.js';
import { CanonicalHash, sortedKeys } from '../../projections/digest.js';
import { assert, mnemoError } from '../kernel/errors.js';
import { packJson } from '../kernel/event-codec.js';
import { noProperties, type JsonValue, type Properties, type RawEvent, type StoredEvent, type VectorStored } from '../kernel/events.js';
import { formatHlc, hlcChars } from './hlc.js';

/** Nodes that updates or edges named before any create or delete of them arrived. Past it such events are dropped and counted: a bound on what a stream filled in a bad order can make us hold. */
export const pendingNodesMax = 100_000;
/**
 * Version of the saved merge state; a checkpoint of another version is refused (the engine replays
 * instead). Format 3: a header `[3, newest, pendingDropped, duplicates]`, then chunks `[kind, rows]`
 * (kind 0 nodes, 1 edges, 2 vectors, 3 the origin names by index), one msgpack value after
 * another; a stamp is its two numbers, wall and low (format 2 wrote `hlc + origin` text: building
 * that text was a third of a save).
 */
const mergeFormat = 3;
/**
 * Rows a save encodes between two turns of the event loop (tens of ms on this machine's shared
 * cores). Slices of 4,096 measured worse in bench:replication: publish-to-visible p99 82–155 ms
 * against 10–14 ms at 32,768 and at one slice (not understood yet).
 */
export const mergeSaveSliceRows = 32_768;
const nodeKind = 0;
const edgeKind = 1;
const vectorKind = 2;
const originsKind = 3;

/** The empty registers every new node shares; never written (setRegister replaces an empty list). */
const noRegisters = Object.freeze([]) as unknown as unknown[];

/** Registers a node holds as a flat array up to this many; past it, a Map (an update's lookups stay O(1) on a wide node). */
const registersFlatMax = 8;
/** Slots a register takes in a flat array: key, value, stamp wall, stamp low. */
const registerSlots = 4;

/** Origins a merge tells apart: a stamp's low number is counter × originSlots + the origin's index. */
const originSlots = 2 ** 20;
/** The wall of "no stamp": older than every stamp (a stamp's wall is ≥ 0). */
const noWall = -1;

/** An edge's flags. */
const edgeShown = 1;
/** A newer create changed what is shown: show it again. */
const edgeDirty = 2;

interface Register {
  value: JsonValue;
  wall: number;
  low: number;
}

/**
 * A node's property registers (the newest write of each key and its stamp). Most nodes hold a few
 * properties: as `[key, value, wall, low, …]` they cost one small array instead of a Map and an
 * object a key.
 */
type Registers = unknown[] | Map<string, Register>;

interface VectorRecord {
  id: string;
  wall: number;
  low: number;
  /** The newest store, or undefined when the newest write is a delete. */
  payload: VectorStored | undefined;
  shown: boolean;
  dirty: boolean;
  saved: number;
}

/** A save in progress: its number, and the rows it encoded early, before an event changed them. */
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

  /** Origin names by index (the index a stamp's low number holds), and back. */
  private origins: string[] = [];
  private originIndex = new Map<string, number>();
  /** Node types and edge relations, each kept once (rows never release theirs: merge rows are never removed). */
  private names = new CountedNames();

  // Nodes: rows by the handle `nodeIds` gives. Never removed: a tombstone is state.
  private nodeIds = new IdTable({ keepStrings: true });
  /** Stamp of the newest create; noWall when none arrived. */
  private createdWall = new Float64Array(0);
  private createdLow = new Float64Array(0);
  /** Stamp of the newest delete; noWall when none arrived. */
  private tombWall = new Float64Array(0);
  private tombLow = new Float64Array(0);
  /** The newest create's type (a `names` handle); -1 before any create. */
  private nodeType = new Int32Array(0);
  /** The type the node is shown with; -1 while not shown. */
  private shownType = new Int32Array(0);
  /** Property registers, all newer than the tombstone. */
  private registers: Registers[] = [];
  /** The last save that encoded the row (see save). */
  private nodeSaved = new Int32Array(0);
  /** Edges naming a node, as source and as target, shown or waiting: lists by node handle of edge handles. */
  private edgesFrom = new LinkedRows();
  private edgesTo = new LinkedRows();

  // Edges: rows by the handle `edgeIds` gives. Never removed.
  private edgeIds = new IdTable();
  /** Its ends (node handles): -1 until a create arrives (a delete may come first). */
  private edgeSource = new Int32Array(0);
  private edgeTarget = new Int32Array(0);
  private edgeRelation = new Int32Array(0);
  private edgeWeight = new Float64Array(0);
  private edgeProperties: Properties[] = [];
  private edgeCreatedWall = new Float64Array(0);
  private edgeCreatedLow = new Float64Array(0);
  private edgeTombWall = new Float64Array(0);
  private edgeTombLow = new Float64Array(0);
  private edgeFlags = new Uint8Array(0);
  private edgeSaved = new Int32Array(0);

  private vectors = new Map<string, VectorRecord>();
  /** origin → the newest hlc merged from it: an origin's stamps only grow, so anything not newer is a redelivery. */
  private newest = new Map<string, string>();
  private pendingNodes = 0;
  private pendingDropped = 0;
  private duplicates = 0;
  private out: RawEvent[] = [];
  private saveEpoch = 0;
  private saving: Saving | undefined;
  /** Rows per slice of a save; tests set 1 to interleave events with every row. */
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
    const wall = hlcWall(event.hlc);
    const low = hlcCounter(event.hlc) * originSlots + this.originOf(event.origin);
    switch (event.type) {
      case 'prime.node.created':
        this.nodeCreated(event.payload.id, event.payload.type, event.payload.properties, wall, low);
        break;
      case 'prime.node.updated':
        this.nodeUpdated(event.payload.id, event.payload.properties, wall, low);
        break;
      case 'prime.node.deleted':
        this.nodeDeleted(event.payload.id, wall, low);
        break;
      case 'prime.edge.created':
        this.edgeCreated(event.payload, wall, low);
        break;
      case 'prime.edge.deleted':
        this.edgeDeleted(event.payload.id, wall, low);
        break;
      case 'prime.vector.stored':
        this.vectorWritten(event.payload.id, event.payload, wall, low);
        break;
      case 'prime.vector.deleted':
        this.vectorWritten(event.payload.id, undefined, wall, low);
        break;
    }
    return this.out;
  }

  /** The type or relation a handle names; '' for none (-1). */
  private nameOf(handle: number): string {
    return handle < 0 ? '' : this.names.nameOf(handle);
  }

  // ---- stamps ----

  private originOf(origin: string): number {
    let index = this.originIndex.get(origin);
    if (index === undefined) {
      assert(this.origins.length < originSlots, `a merge tells at most ${originSlots} origins apart`);
      index = this.origins.length;
      this.origins.push(origin);
      this.originIndex.set(origin, index);
    }
    return index;
  }

  /** Whether stamp a is newer than stamp b: the order of their `hlc + origin` strings. */
  private newer(aWall: number, aLow: number, bWall: number, bLow: number): boolean {
    if (aWall !== bWall) return aWall > bWall;
    if (aLow === bLow) return false;
    const aCounter = Math.floor(aLow / originSlots);
    const bCounter = Math.floor(bLow / originSlots);
    if (aCounter !== bCounter) return aCounter > bCounter;
    return this.origins[aLow - aCounter * originSlots]! > this.origins[bLow - bCounter * originSlots]!;
  }

  /** A stamp as `hlc + origin` text, '' for none: the order and form the digest states. */
  private stampText(wall: number, low: number): string {
    if (wall === noWall) return '';
    const counter = Math.floor(low / originSlots);
    return formatHlc(wall, counter) + this.origins[low - counter * originSlots]!;
  }

  // ---- nodes ----

  /** The node's handle, a row made (pending) if new; -1 when the pending bound is reached. */
  private node(id: string): number {
    if (this.pendingNodes >= pendingNodesMax) {
      const found = this.nodeIds.get(id);
      if (found === -1) this.pendingDropped++;
      return found;
    }
    const known = this.nodeIds.size;
    const node = this.nodeIds.getOrAdd(id);
    if (this.nodeIds.size === known) return node;
    this.nodeRow(node);
    this.pendingNodes++;
    return node;
  }

  /** Makes room for a new node row and sets it empty. */
  private nodeRow(node: number): void {
    if (node >= this.nodeSaved.length) {
      const rows = node + 1;
      this.createdWall = grown(this.createdWall, rows);
      this.createdLow = grown(this.createdLow, rows);
      this.tombWall = grown(this.tombWall, rows);
      this.tombLow = grown(this.tombLow, rows);
      this.nodeType = grown(this.nodeType, rows);
      this.shownType = grown(this.shownType, rows);
      this.nodeSaved = grown(this.nodeSaved, rows);
      this.edgesFrom.growLists(rows);
      this.edgesTo.growLists(rows);
    }
    this.createdWall[node] = noWall;
    this.createdLow[node] = 0;
    this.tombWall[node] = noWall;
    this.tombLow[node] = 0;
    this.nodeType[node] = -1;
    this.shownType[node] = -1;
    this.registers[node] = noRegisters;
    // Made during a save: not in its snapshot, so nothing to encode for it.
    this.nodeSaved[node] = this.saveEpoch;
  }

  private isPending(node: number): boolean {
    return this.createdWall[node] === noWall && this.tombWall[node] === noWall;
  }

  private settle(node: number, wasPending: boolean): void {
    if (wasPending && !this.isPending(node)) this.pendingNodes--;
  }

  private nodeCreated(id: string, type: string, properties: Properties, wall: number, low: number): void {
    const node = this.node(id);
    if (node < 0) return;
    this.preserveNode(node);
    const wasPending = this.isPending(node);
    if (this.newer(wall, low, this.createdWall[node]!, this.createdLow[node]!)) {
      this.createdWall[node] = wall;
      this.createdLow[node] = low;
      this.nodeType[node] = this.names.hold(type);
    }
    const changed = this.writeProperties(node, properties, wall, low);
    this.settle(node, wasPending);
    this.reconcileNode(node, changed);
  }

  private nodeUpdated(id: string, properties: Properties, wall: number, low: number): void {
    const node = this.node(id);
    if (node < 0) return;
    this.preserveNode(node);
    this.reconcileNode(node, this.writeProperties(node, properties, wall, low));
  }

  private nodeDeleted(id: string, wall: number, low: number): void {
    const node = this.node(id);
    if (node < 0) return;
    const wasPending = this.isPending(node);
    if (!this.newer(wall, low, this.tombWall[node]!, this.tombLow[node]!)) return;
    this.preserveNode(node);
    this.tombWall[node] = wall;
    this.tombLow[node] = low;
    const changed = this.dropRegistersUpTo(node, wall, low);
    this.settle(node, wasPending);
    this.reconcileNode(node, changed);
    // A delete older than a re-create keeps the node, but still cascades to what it predates.
    this.reconcileEdgesOf(node);
    this.reconcileVector(id);
  }

  private reconcileNode(node: number, changed: readonly string[]): void {
    const alive = this.newer(this.createdWall[node]!, this.createdLow[node]!, this.tombWall[node]!, this.tombLow[node]!);
    if (!alive) {
      if (this.shownType[node] !== -1) this.hideNode(node);
      return;
    }
    if (this.shownType[node] !== -1 && this.shownType[node] !== this.nodeType[node]) this.hideNode(node);
    const id = this.nodeIds.idOf(node);
    if (this.shownType[node] === -1) {
      this.out.push({ type: 'prime.node.created', payload: { id, type: this.nameOf(this.nodeType[node]!), properties: shownProperties(this.registers[node]!) } });
      this.shownType[node] = this.nodeType[node]!;
      this.reconcileEdgesOf(node);
      this.reconcileVector(id);
      return;
    }
    if (changed.length === 0) return;
    const changes: Properties = {};
    for (const key of changed) changes[key] = registerValue(this.registers[node]!, key);
    this.out.push({ type: 'prime.node.updated', payload: { id, properties: changes } });
  }

  /** The cascade a shown node's removal needs: its shown edges, its shown vector, then the node. */
  private hideNode(node: number): void {
    for (const edges of [this.edgesFrom, this.edgesTo]) {
      for (let edge = edges.heads[node]!; edge !== -1; edge = edges.next[edge]!) {
        if ((this.edgeFlags[edge]! & edgeShown) === 0) continue;
        this.preserveEdge(edge);
        this.edgeFlags[edge]! &= ~edgeShown;
        this.out.push({ type: 'prime.edge.deleted', payload: { id: this.edgeIds.idOf(edge) } });
      }
    }
    const id = this.nodeIds.idOf(node);
    const vector = this.vectors.get(id);
    if (vector?.shown === true) {
      this.preserveVector(vector);
      vector.shown = false;
      this.out.push({ type: 'prime.vector.deleted', payload: { id } });
    }
    this.shownType[node] = -1;
    this.out.push({ type: 'prime.node.deleted', payload: { id } });
  }

  /** Writes each property whose register this stamp wins; returns the keys whose register changed. */
  private writeProperties(node: number, properties: Properties, wall: number, low: number): string[] {
    const changed: string[] = [];
    if (!this.newer(wall, low, this.tombWall[node]!, this.tombLow[node]!)) return changed;
    for (const key in properties) {
      const registers = this.registers[node]!;
      if (registers instanceof Map) {
        const current = registers.get(key);
        if (current !== undefined && !this.newer(wall, low, current.wall, current.low)) continue;
      } else {
        const at = flatIndexOf(registers, key);
        if (at >= 0 && !this.newer(wall, low, registers[at + 2] as number, registers[at + 3] as number)) continue;
      }
      this.setRegister(node, key, properties[key]!, wall, low);
      changed.push(key);
    }
    return changed;
  }

  private setRegister(node: number, key: string, value: JsonValue, wall: number, low: number): void {
    const registers = this.registers[node]!;
    if (registers instanceof Map) {
      registers.set(key, { value, wall, low });
      return;
    }
    const at = flatIndexOf(registers, key);
    if (at >= 0) {
      registers[at + 1] = value;
      registers[at + 2] = wall;
      registers[at + 3] = low;
      return;
    }
    if (registers.length === 0) {
      this.registers[node] = [key, value, wall, low]; // exactly four slots: most nodes are written once
      return;
    }
    if (registers.length < registerSlots * registersFlatMax) {
      registers.push(key, value, wall, low);
      return;
    }
    const map = new Map<string, Register>();
    forEachRegister(registers, (k, v, w, l) => map.set(k, { value: v, wall: w, low: l }));
    map.set(key, { value, wall, low });
    this.registers[node] = map;
  }

  /** Removes every register written at or before a delete's stamp; returns their keys. */
  private dropRegistersUpTo(node: number, wall: number, low: number): string[] {
    const dropped: string[] = [];
    const registers = this.registers[node]!;
    if (registers instanceof Map) {
      for (const [key, register] of registers) {
        if (this.newer(register.wall, register.low, wall, low)) continue;
        registers.delete(key);
        dropped.push(key);
      }
      return dropped;
    }
    let kept = 0;
    for (let i = 0; i < registers.length; i += registerSlots) {
      if (!this.newer(registers[i + 2] as number, registers[i + 3] as number, wall, low)) {
        dropped.push(registers[i] as string);
        continue;
      }
      for (let k = 0; k < registerSlots; k++) registers[kept + k] = registers[i + k];
      kept += registerSlots;
    }
    if (kept < registers.length) registers.length = kept;
    return dropped;
  }

  // ---- edges ----

  /** The edge's handle, a row made if new. */
  private edge(id: string): number {
    const known = this.edgeIds.size;
    const edge = this.edgeIds.getOrAdd(id);
    if (this.edgeIds.size === known) return edge;
    if (edge >= this.edgeSaved.length) {
      const rows = edge + 1;
      this.edgeSource = grown(this.edgeSource, rows);
      this.edgeTarget = grown(this.edgeTarget, rows);
      this.edgeRelation = grown(this.edgeRelation, rows);
      this.edgeWeight = grown(this.edgeWeight, rows);
      this.edgeCreatedWall = grown(this.edgeCreatedWall, rows);
      this.edgeCreatedLow = grown(this.edgeCreatedLow, rows);
      this.edgeTombWall = grown(this.edgeTombWall, rows);
      this.edgeTombLow = grown(this.edgeTombLow, rows);
      this.edgeFlags = grown(this.edgeFlags, rows);
      this.edgeSaved = grown(this.edgeSaved, rows);
      this.edgesFrom.growRows(rows);
      this.edgesTo.growRows(rows);
    }
    this.edgeSource[edge] = -1;
    this.edgeTarget[edge] = -1;
    this.edgeRelation[edge] = -1;
    this.edgeWeight[edge] = 1;
    this.edgeProperties[edge] = noProperties;
    this.edgeCreatedWall[edge] = noWall;
    this.edgeCreatedLow[edge] = 0;
    this.edgeTombWall[edge] = noWall;
    this.edgeTombLow[edge] = 0;
    this.edgeFlags[edge] = 0;
    this.edgeSaved[edge] = this.saveEpoch;
    return edge;
  }

  private edgeCreated(p: { id: string; source: string; target: string; relation: string; weight?: number; properties?: Properties }, wall: number, low: number): void {
    const edge = this.edge(p.id);
    if (!this.newer(wall, low, this.edgeCreatedWall[edge]!, this.edgeCreatedLow[edge]!)) return;
    const source = this.node(p.source);
    const target = this.node(p.target);
    if (source < 0 || target < 0) return;
    this.preserveEdge(edge);
    this.setEnds(edge, source, target);
    this.edgeRelation[edge] = this.names.hold(p.relation);
    this.edgeWeight[edge] = p.weight ?? 1;
    this.edgeProperties[edge] = p.properties ?? noProperties;
    this.edgeCreatedWall[edge] = wall;
    this.edgeCreatedLow[edge] = low;
    this.edgeFlags[edge]! |= edgeDirty;
    this.reconcileEdge(edge, p.id);
  }

  /** Moves an edge to the lists of its (new) ends. */
  private setEnds(edge: number, source: number, target: number): void {
    const oldSource = this.edgeSource[edge]!;
    const oldTarget = this.edgeTarget[edge]!;
    if (oldSource === source && oldTarget === target) return;
    if (oldSource !== -1) this.edgesFrom.unlink(oldSource, edge);
    if (oldTarget !== -1) this.edgesTo.unlink(oldTarget, edge);
    this.edgesFrom.append(source, edge);
    this.edgesTo.append(target, edge);
    this.edgeSource[edge] = source;
    this.edgeTarget[edge] = target;
  }

  private edgeDeleted(id: string, wall: number, low: number): void {
    const edge = this.edge(id);
    if (!this.newer(wall, low, this.edgeTombWall[edge]!, this.edgeTombLow[edge]!)) return;
    this.preserveEdge(edge);
    this.edgeTombWall[edge] = wall;
    this.edgeTombLow[edge] = low;
    this.reconcileEdge(edge, id);
  }

  /** Reconciles every edge naming the node (a self-loop twice: reconciling is idempotent). */
  private reconcileEdgesOf(node: number): void {
    for (let edge = this.edgesFrom.heads[node]!; edge !== -1; edge = this.edgesFrom.next[edge]!) this.reconcileEdge(edge);
    for (let edge = this.edgesTo.heads[node]!; edge !== -1; edge = this.edgesTo.next[edge]!) this.reconcileEdge(edge);
  }

  /** Shows or hides an edge as the rules say; `id` is its id when the caller has it (else read from the table). */
  private reconcileEdge(edge: number, id?: string): void {
    this.preserveEdge(edge);
    const source = this.edgeSource[edge]!;
    const target = this.edgeTarget[edge]!;
    const wall = this.edgeCreatedWall[edge]!;
    const low = this.edgeCreatedLow[edge]!;
    const wanted =
      source !== -1 && target !== -1 && this.newer(wall, low, this.edgeTombWall[edge]!, this.edgeTombLow[edge]!) && this.endShows(source, wall, low) && this.endShows(target, wall, low);
    let flags = this.edgeFlags[edge]!;
    if ((flags & edgeShown) !== 0 && (!wanted || (flags & edgeDirty) !== 0)) {
      flags &= ~edgeShown;
      this.out.push({ type: 'prime.edge.deleted', payload: { id: id ?? this.edgeIds.idOf(edge) } });
    }
    if (wanted && (flags & edgeShown) === 0) {
      flags |= edgeShown;
      this.out.push({
        type: 'prime.edge.created',
        payload: {
          id: id ?? this.edgeIds.idOf(edge),
          source: this.nodeIds.idOf(source),
          target: this.nodeIds.idOf(target),
          relation: this.nameOf(this.edgeRelation[edge]!),
          weight: this.edgeWeight[edge]!,
          properties: this.edgeProperties[edge]!,
        },
      });
    }
    this.edgeFlags[edge] = flags & ~edgeDirty;
  }

  /** Whether an end lets an edge created at this stamp show: the node is shown and the edge is newer than its tombstone. */
  private endShows(node: number, wall: number, low: number): boolean {
    return this.shownType[node] !== -1 && this.newer(wall, low, this.tombWall[node]!, this.tombLow[node]!);
  }

  // ---- vectors ----

  private vectorWritten(id: string, payload: VectorStored | undefined, wall: number, low: number): void {
    let vector = this.vectors.get(id);
    if (vector === undefined) {
      vector = { id, wall: noWall, low: 0, payload: undefined, shown: false, dirty: false, saved: this.saveEpoch };
      this.vectors.set(id, vector);
    }
    if (!this.newer(wall, low, vector.wall, vector.low)) return;
    this.preserveVector(vector);
    vector.wall = wall;
    vector.low = low;
    vector.payload = payload;
    vector.dirty = true;
    this.reconcileVector(id);
  }

  private reconcileVector(id: string): void {
    const vector = this.vectors.get(id);
    if (vector === undefined) return;
    this.preserveVector(vector);
    const node = this.nodeIds.get(id);
    const standsAlone = node === -1 || this.isPending(node);
    const wanted = vector.payload !== undefined && (standsAlone || (this.shownType[node] !== -1 && this.newer(vector.wall, vector.low, this.tombWall[node]!, this.tombLow[node]!)));
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
    // Rows are never removed: every handle below handleLimit is live.
    const byId = (ids: IdTable): Array<[string, number]> => {
      const all: string[] = [];
      for (let handle = 0; handle < ids.handleLimit; handle++) all.push(ids.idOf(handle));
      return sortedKeys(all).map((id) => [id, ids.get(id)]);
    };
    for (const [id, node] of byId(this.nodeIds)) {
      const registers = new Map<string, [JsonValue, string]>();
      forEachRegister(this.registers[node]!, (key, value, wall, low) => registers.set(key, [value, this.stampText(wall, low)]));
      const props = sortedKeys(registers.keys()).map((k) => [k, ...registers.get(k)!]);
      const edges = new Set<string>();
      for (const list of [this.edgesFrom, this.edgesTo]) for (let edge = list.heads[node]!; edge !== -1; edge = list.next[edge]!) edges.add(this.edgeIds.idOf(edge));
      const shown = this.shownType[node]!;
      hash.row(
        'node',
        id,
        this.nameOf(this.nodeType[node]!),
        this.stampText(this.createdWall[node]!, this.createdLow[node]!),
        this.stampText(this.tombWall[node]!, this.tombLow[node]!),
        props,
        sortedKeys(edges),
        shown === -1 ? null : this.nameOf(shown),
      );
    }
    for (const [id, edge] of byId(this.edgeIds)) {
      const source = this.edgeSource[edge]!;
      const target = this.edgeTarget[edge]!;
      hash.row(
        'edge',
        id,
        source === -1 ? '' : this.nodeIds.idOf(source),
        target === -1 ? '' : this.nodeIds.idOf(target),
        this.nameOf(this.edgeRelation[edge]!),
        this.edgeWeight[edge]!,
        this.edgeProperties[edge]!,
        this.stampText(this.edgeCreatedWall[edge]!, this.edgeCreatedLow[edge]!),
        this.stampText(this.edgeTombWall[edge]!, this.edgeTombLow[edge]!),
        (this.edgeFlags[edge]! & edgeShown) !== 0,
      );
    }
    for (const id of sortedKeys(this.vectors.keys())) {
      const v = this.vectors.get(id)!;
      hash.row('vector', id, this.stampText(v.wall, v.low), v.payload === undefined ? null : vectorRow(v.payload), v.shown);
    }
    for (const origin of sortedKeys(this.newest.keys())) hash.row('origin', origin, this.newest.get(origin)!);
    return hash.hex();
  }

  // Before an event changes a row while a save is in progress, the row is encoded as the save
  // found it (once): the save then holds every row as of its start, without copying the state up
  // front (a synchronous save of 300K records held the event loop ~1.5 s mid catch-up).

  private preserveNode(node: number): void {
    const saving = this.saving;
    if (saving === undefined || this.nodeSaved[node] === saving.epoch) return;
    this.nodeSaved[node] = saving.epoch;
    saving.early[nodeKind].push(this.nodeRowOf(node));
  }

  private preserveEdge(edge: number): void {
    const saving = this.saving;
    if (saving === undefined || this.edgeSaved[edge] === saving.epoch) return;
    this.edgeSaved[edge] = saving.epoch;
    saving.early[edgeKind].push(this.edgeRowOf(edge));
  }

  private preserveVector(vector: VectorRecord): void {
    const saving = this.saving;
    if (saving === undefined || vector.saved === saving.epoch) return;
    vector.saved = saving.epoch;
    saving.early[vectorKind].push(this.vectorRowOf(vector));
  }

  /** A node's saved row: `[id, type, createdWall, createdLow, tombWall, tombLow, [key, value, wall, low, …], shownType | null]`. */
  private nodeRowOf(node: number): unknown[] {
    const registers = this.registers[node]!;
    const props: unknown[] = [];
    forEachRegister(registers, (key, value, wall, low) => props.push(key, value, wall, low));
    const shown = this.shownType[node]!;
    return [
      this.nodeIds.idOf(node),
      this.nameOf(this.nodeType[node]!),
      this.createdWall[node]!,
      this.createdLow[node]!,
      this.tombWall[node]!,
      this.tombLow[node]!,
      props,
      shown === -1 ? null : this.nameOf(shown),
    ];
  }

  /** An edge's saved row: `[id, source, target, relation, weight, properties, createdWall, createdLow, tombWall, tombLow, shown]`. */
  private edgeRowOf(edge: number): unknown[] {
    const source = this.edgeSource[edge]!;
    const target = this.edgeTarget[edge]!;
    return [
      this.edgeIds.idOf(edge),
      source === -1 ? '' : this.nodeIds.idOf(source),
      target === -1 ? '' : this.nodeIds.idOf(target),
      this.nameOf(this.edgeRelation[edge]!),
      this.edgeWeight[edge]!,
      this.edgeProperties[edge]!,
      this.edgeCreatedWall[edge]!,
      this.edgeCreatedLow[edge]!,
      this.edgeTombWall[edge]!,
      this.edgeTombLow[edge]!,
      (this.edgeFlags[edge]! & edgeShown) !== 0,
    ];
  }

  private vectorRowOf(v: VectorRecord): unknown[] {
    return [v.id, v.wall, v.low, v.payload ?? null, v.shown];
  }

  /**
   * The state as of this call, encoded saveSliceRows rows a turn: events applied meanwhile are not
   * in it (each row they change is encoded first, by the preserve methods; rows they make are past
   * the counts taken here).
   */
  async save(): Promise<Uint8Array> {
    assert(this.saving === undefined, 'one merge save at a time');
    const saving: Saving = { epoch: ++this.saveEpoch, early: [[], [], []] };
    this.saving = saving;
    const chunks: Uint8Array[] = [packr.pack([mergeFormat, [...this.newest], this.pendingDropped, this.duplicates])];
    const vectors = Array.from(this.vectors.values());
    const counts = [this.nodeIds.handleLimit, this.edgeIds.handleLimit, vectors.length];
    try {
      for (const kind of [nodeKind, edgeKind, vectorKind] as const) {
        for (let start = 0; start < counts[kind]!; start += this.saveSliceRows) {
          if (start > 0) await nextTurn();
          const rows: unknown[] = [];
          for (let i = start; i < Math.min(start + this.saveSliceRows, counts[kind]!); i++) {
            if (kind === vectorKind) {
              const vector = vectors[i]!;
              if (vector.saved === saving.epoch) continue; // encoded early
              vector.saved = saving.epoch;
              rows.push(this.vectorRowOf(vector));
              continue;
            }
            // The columns may have grown (and been replaced) since the last slice.
            const savedColumn = kind === nodeKind ? this.nodeSaved : this.edgeSaved;
            if (savedColumn[i] === saving.epoch) continue;
            savedColumn[i] = saving.epoch;
            rows.push(kind === nodeKind ? this.nodeRowOf(i) : this.edgeRowOf(i));
          }
          chunks.push(packChunk(kind, rows));
        }
      }
      for (const kind of [nodeKind, edgeKind, vectorKind] as const) if (saving.early[kind].length > 0) chunks.push(packChunk(kind, saving.early[kind]));
      // Last: every origin index a row above holds (origins are only ever appended).
      chunks.push(packJson([originsKind, this.origins.slice()]));
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
    // Start from an empty state: every field as a new merge has it.
    const fresh = new ReplicaMerge();
    fresh.saveSliceRows = this.saveSliceRows;
    Object.assign(this, fresh);
    const origins = rowsOf(originsKind) as unknown as string[];
    for (const origin of origins) this.originOf(origin);
    type NodeRow = [string, string, number, number, number, number, unknown[], string | null];
    for (const [id, type, createdWall, createdLow, tombWall, tombLow, props, shownType] of rowsOf(nodeKind) as NodeRow[]) {
      const node = this.nodeIds.add(id);
      this.nodeRow(node);
      this.createdWall[node] = createdWall;
      this.createdLow[node] = createdLow;
      this.tombWall[node] = tombWall;
      this.tombLow[node] = tombLow;
      this.nodeType[node] = type === '' ? -1 : this.names.hold(type);
      this.shownType[node] = shownType === null ? -1 : this.names.hold(shownType);
      this.nodeSaved[node] = 0;
      for (let i = 0; i < props.length; i += registerSlots) this.setRegister(node, props[i] as string, props[i + 1] as JsonValue, props[i + 2] as number, props[i + 3] as number);
      if (this.isPending(node)) this.pendingNodes++;
    }
    type EdgeRow = [string, string, string, string, number, Properties, number, number, number, number, boolean];
    for (const [id, source, target, relation, weight, properties, createdWall, createdLow, tombWall, tombLow, shown] of rowsOf(edgeKind) as EdgeRow[]) {
      const edge = this.edge(id);
      this.edgeSaved[edge] = 0;
      // An edge's ends got their rows when its create arrived: a saved edge naming no saved node is not ours.
      if (createdWall !== noWall) {
        const ends = [this.nodeIds.get(source), this.nodeIds.get(target)];
        if (ends[0] === -1 || ends[1] === -1) {
          throw mnemoError('CHECKPOINT_CORRUPT', { file: this.name, reason: `edge ${id} names a node the merge state does not hold` });
        }
        this.setEnds(edge, ends[0]!, ends[1]!);
      }
      this.edgeRelation[edge] = relation === '' ? -1 : this.names.hold(relation);
      this.edgeWeight[edge] = weight;
      this.edgeProperties[edge] = properties;
      this.edgeCreatedWall[edge] = createdWall;
      this.edgeCreatedLow[edge] = createdLow;
      this.edgeTombWall[edge] = tombWall;
      this.edgeTombLow[edge] = tombLow;
      this.edgeFlags[edge] = shown ? edgeShown : 0;
    }
    for (const [id, wall, low, payload, shown] of rowsOf(vectorKind) as [string, number, number, VectorStored | null, boolean][]) {
      this.vectors.set(id, { id, wall, low, payload: payload ?? undefined, shown, dirty: false, saved: 0 });
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

/** A hex digit's value; an event's hlc is checked lowercase hex before it gets here. */
function hexValue(code: number): number {
  return code <= 57 ? code - 48 : code - 87;
}

/** The wall milliseconds of an hlc (its first 12 hex digits), parsed without slicing. */
function hlcWall(hlc: string): number {
  let wall = 0;
  for (let i = 0; i < 12; i++) wall = wall * 16 + hexValue(hlc.charCodeAt(i));
  return wall;
}

/** The counter of an hlc (its last 6 hex digits). */
function hlcCounter(hlc: string): number {
  let counter = 0;
  for (let i = 12; i < hlcChars; i++) counter = counter * 16 + hexValue(hlc.charCodeAt(i));
  return counter;
}

/** Where a key's register starts in a flat register array, or -1. */
function flatIndexOf(registers: unknown[], key: string): number {
  for (let i = 0; i < registers.length; i += registerSlots) if (registers[i] === key) return i;
  return -1;
}

/** A register's value, null when the key has none (removed, or never written). */
function registerValue(registers: Registers, key: string): JsonValue {
  if (registers instanceof Map) return registers.get(key)?.value ?? null;
  const at = flatIndexOf(registers, key);
  return at < 0 ? null : (registers[at + 1] as JsonValue);
}

function forEachRegister(registers: Registers, visit: (key: string, value: JsonValue, wall: number, low: number) => void): void {
  if (registers instanceof Map) {
    for (const [key, register] of registers) visit(key, register.value, register.wall, register.low);
    return;
  }
  for (let i = 0; i < registers.length; i += registerSlots) visit(registers[i] as string, registers[i + 1] as JsonValue, registers[i + 2] as number, registers[i + 3] as number);
}

/** The properties a shown node has: every register but the removed (null) ones. */
function shownProperties(registers: Registers): Properties {
  const props: Properties = {};
  forEachRegister(registers, (key, value) => {
    if (value !== null) props[key] = value;
  });
  return props;
}

function vectorRow(payload: VectorStored): unknown[] {
  return [payload.vector === undefined ? null : Array.from(payload.vector), payload.text ?? null, payload.metadata ?? null];
}
