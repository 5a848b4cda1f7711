// The whole history, queryable: one event source over Parquet files and the WAL in seq order;
// the seq ↔ time index; historical states for `asOf` reads; `history(entityId)`; `diff(from, to)`.
//
// A historical state is node state + adjacency (what getNode and neighbors read), built from the
// newest checkpoint at or before the wanted seq (or from nothing) plus the events after it. A few
// recent states are cached, and a cached state earlier than the wanted seq is rolled forward
// instead of rebuilt, so stepping through history costs only the events stepped over.

import type { Wal } from '../../wal/wal.js';
import type { Adjacency } from '../../projections/adjacency.js';
import type { NodeState } from '../../projections/node-state.js';
import { ProjectionRegistry, type ProjectionName } from '../../projections/registry.js';
import type { SeqTimeIndex } from '../../projections/seq-time.js';
import type { AsOf, DiffResult } from '../kernel/api.js';
import { readCheckpointParts, type CheckpointEntry } from './checkpoint.js';
import type { ParquetFileInfo } from '../parquet/format.js';
import { pastLost, stillApplies, type LostSeqs } from './lost-seqs.js';
import { eventAt, readParquetColumns, readParquetEvents } from '../parquet/reader.js';
import { assert, mnemoError } from '../kernel/errors.js';
import { eventFromLog } from '../kernel/event-codec.js';
import type { StateView, StoredEvent } from '../kernel/events.js';
import { GraphQueries } from '../query/graph.js';
import { ReplicaMerge } from '../replication/merge.js';

/** Historical states kept for reuse: each holds a full node-state + adjacency, so keep few. */
export const historicalStatesCached = 3;
/** Decoded Parquet files kept for repeated time travel (one is ~64 MiB of WAL decoded). */
const parquetFilesCached = 2;

// ---- the event source ----

export class EventLog {
  private readonly wal: Wal;
  private readonly parquetFiles: () => readonly ParquetFileInfo[];
  private readonly decoded: Array<{ path: string; events: StoredEvent[] }> = [];
  /** Seqs a repair gave up (lost-seqs.ts): skipped, the one kind of hole allowed. */
  readonly lost: readonly LostSeqs[];

  constructor(wal: Wal, parquetFiles: () => readonly ParquetFileInfo[], lost: readonly LostSeqs[] = []) {
    this.wal = wal;
    this.parquetFiles = parquetFiles;
    this.lost = lost;
  }

  /** Whether seqs fromSeq..toSeq cross a range a repair recorded as lost. */
  crossesLost(fromSeq: number, toSeq = Number.MAX_SAFE_INTEGER): boolean {
    return this.lost.some((range) => range.lastSeq >= fromSeq && range.firstSeq <= toSeq);
  }

  /**
   * Every event with fromSeq ≤ seq ≤ toSeq, in seq order: Parquet files first, then the WAL. While
   * a segment is both compacted and not yet deleted its events are in both; the WAL copy is
   * skipped. Seqs recorded as lost are skipped; any other hole is a bug or lost data: it throws
   * rather than yield a wrong history.
   */
  *events(fromSeq: number, toSeq = Number.MAX_SAFE_INTEGER): Generator<StoredEvent> {
    let next = fromSeq;
    for (const file of this.parquetFiles()) {
      next = pastLost(next, this.lost);
      if (file.lastSeq < next) continue;
      if (file.firstSeq > toSeq) return;
      for (const event of this.parquetEvents(file.path)) {
        if (event.seq < next) continue;
        if (event.seq > toSeq) return;
        assert(event.seq === next, `history has a hole: expected seq ${next}, ${file.path} gives ${event.seq}`);
        next++;
        yield event;
      }
    }
    next = pastLost(next, this.lost);
    for (const { seq, event } of this.wal.replay(next)) {
      if (seq < next) continue;
      if (seq > toSeq) return;
      if (seq !== next) throw mnemoError('PARQUET_CORRUPT', { file: 'parquet/', reason: `events ${next}..${seq - 1} are in neither Parquet nor the WAL` });
      next++;
      yield eventFromLog(seq, event);
    }
  }

  private parquetEvents(path: string): StoredEvent[] {
    const hit = this.decoded.find((d) => d.path === path);
    if (hit !== undefined) return hit.events;
    const events = readParquetEvents(path);
    this.decoded.unshift({ path, events });
    this.decoded.length = Math.min(this.decoded.length, parquetFilesCached);
    return events;
  }

  /** Drops decoded Parquet files (after open's replay, which reads each once). */
  forgetDecoded(): void {
    this.decoded.length = 0;
  }

  /**
   * The events that touched `entityId`, in order: its own, and those of every edge created with it
   * as an end. Parquet rows are filtered on the entity_id and type columns before any payload is
   * decoded, so a scan decodes only the matching payloads.
   */
  history(entityId: string): StoredEvent[] {
    const touching = new Set([entityId]);
    const out: StoredEvent[] = [];
    const consider = (event: StoredEvent) => {
      if (event.type === 'prime.edge.created' && (event.payload.source === entityId || event.payload.target === entityId)) touching.add(event.payload.id);
      if (touching.has(event.payload.id)) out.push(event);
    };
    let next = 1;
    for (const file of this.parquetFiles()) {
      const cached = this.decoded.find((d) => d.path === file.path);
      if (cached !== undefined) cached.events.forEach(consider);
      else scanParquetFor(file.path, entityId, touching, consider);
      next = file.lastSeq + 1;
    }
    for (const { seq, event } of this.wal.replay(next)) if (seq >= next) consider(eventFromLog(seq, event));
    return out;
  }
}

function scanParquetFor(path: string, entityId: string, touching: Set<string>, consider: (event: StoredEvent) => void): void {
  const columns = readParquetColumns(path);
  for (let i = 0; i < columns.rows; i++) {
    if (!touching.has(columns.entityId[i]!) && columns.type[i] !== 'prime.edge.created') continue;
    const event = eventAt(path, columns, i);
    const payload = event.payload as { source?: string; target?: string };
    if (!touching.has(columns.entityId[i]!) && payload.source !== entityId && payload.target !== entityId) continue;
    consider(event);
  }
}

// ---- historical states ----

export interface HistoricalState {
  seq: number;
  nodes: NodeState;
  adjacency: Adjacency;
  graph: GraphQueries;
  /** Fans the events stepped over out to `nodes` and `adjacency` (and what they read), in the engine's apply order; absent on the live state. */
  registry?: ProjectionRegistry;
}

/** What an `asOf` read needs: getNode and neighbors read node-state and adjacency. */
const historicalProjections: readonly ProjectionName[] = ['node-state', 'adjacency'];


export interface TimeTravelDeps {
  log: EventLog;
  seqTime: SeqTimeIndex;
  lastSeq: () => number;
  checkpoints: () => CheckpointEntry[];
  /** The live state, for an asOf at or after the last seq. */
  live: () => HistoricalState;
  warn: (message: string) => void;
}

export class TimeTravel {
  private readonly deps: TimeTravelDeps;
  /** Most recently used first. */
  private cache: HistoricalState[] = [];

  constructor(deps: TimeTravelDeps) {
    this.deps = deps;
  }

  /** A seq (integer ≥ 0) or an ISO-8601 time → the seq it names, capped at the last seq. */
  resolve(asOf: AsOf, field = 'asOf'): number {
    const lastSeq = this.deps.lastSeq();
    if (typeof asOf === 'number') {
      if (!Number.isSafeInteger(asOf) || asOf < 0) throw mnemoError('VALIDATION_FAILED', { field, reason: `expected a seq (integer ≥ 0) or an ISO time, got ${asOf}` });
      return Math.min(asOf, lastSeq);
    }
    if (typeof asOf === 'string' && /^\d+$/.test(asOf)) return Math.min(Number(asOf), lastSeq);
    const ms = typeof asOf === 'string' && /^\d{4}-\d{2}-\d{2}/.test(asOf) ? Date.parse(asOf) : Number.NaN;
    if (Number.isNaN(ms)) throw mnemoError('VALIDATION_FAILED', { field, reason: `expected a seq or an ISO-8601 time, got ${JSON.stringify(asOf)}` });
    return Math.min(this.deps.seqTime.seqAt(ms), lastSeq);
  }

  /** The state after event `seq` (the live one when seq is the last seq). */
  stateAt(seq: number): HistoricalState {
    if (seq >= this.deps.lastSeq()) return this.deps.live();
    const exact = this.cache.find((s) => s.seq === seq);
    if (exact !== undefined) return this.touch(exact);
    const rollable = this.cache.filter((s) => s.seq < seq).sort((a, b) => b.seq - a.seq)[0];
    const checkpoint = this.deps.checkpoints().find((c) => c.seq <= seq);
    let state: HistoricalState;
    if (rollable !== undefined && rollable.seq >= (checkpoint?.seq ?? 0)) {
      this.cache = this.cache.filter((s) => s !== rollable);
      state = rollable;
    } else {
      state = this.baseState(checkpoint);
    }
    const registry = state.registry!;
    const log = this.deps.log;
    if (!log.crossesLost(state.seq + 1, seq)) {
      for (const event of log.events(state.seq + 1, seq)) registry.apply(event);
    } else {
      // Past seqs a repair gave up: what needed them is left out, as at open (Engine.replayAcrossLost).
      const { nodes, adjacency } = state;
      const view: StateView = {
        hasNode: (id) => nodes.rememberHandleOf(id) >= 0,
        nodeType: (id) => nodes.typeOfNode(id),
        hasEdge: (id) => adjacency.hasEdge(id),
        edgeIdsOf: (id) => adjacency.edgeIdsOf(id),
        // Vectors are not part of a historical state: their events change nothing here.
        hasVector: () => true,
        vectorDim: () => undefined,
      };
      const forget = () => nodes.forgetRemembered();
      for (const event of log.events(state.seq + 1, seq)) if (event.type.startsWith('prime.vector.') || stillApplies(event, view, forget)) registry.apply(event);
    }
    state.seq = seq;
    this.cache.unshift(state);
    this.cache.length = Math.min(this.cache.length, historicalStatesCached);
    return state;
  }

  private touch(state: HistoricalState): HistoricalState {
    this.cache = [state, ...this.cache.filter((s) => s !== state)];
    return state;
  }

  private baseState(checkpoint: CheckpointEntry | undefined): HistoricalState {
    // The merge step too: events with an hlc must replay through it to give the state they gave live.
    const registry = new ProjectionRegistry({ expander: () => new ReplicaMerge() }, historicalProjections);
    const nodes = registry.byName['node-state'];
    const adjacency = registry.byName.adjacency;
    const state: HistoricalState = { seq: 0, nodes, adjacency, graph: new GraphQueries(nodes, adjacency), registry };
    if (checkpoint === undefined) return state;
    let parts: Map<string, Uint8Array>;
    try {
      const optional = registry.expander === undefined ? [] : [registry.expander.name];
      parts = readCheckpointParts(checkpoint.dir, registry.loadOrder.map((p) => p.name).filter((name) => !optional.includes(name)), optional);
    } catch (e) {
      this.deps.warn(`time travel: ${(e as Error).message}; building from the start of the log instead`);
      return state;
    }
    // NodeState and Adjacency restore synchronously inside their async load() (no await in them),
    // and reads here are synchronous, so the returned promises are settled by the time they return.
    // The bytes passed their crc32 already: a rejection would be damage, surfaced by dropping the cache.
    for (const projection of registry.loadOrder) {
      const bytes = parts.get(projection.name);
      if (bytes === undefined) continue; // an optional part a checkpoint written before it existed lacks: it starts empty
      projection.load(bytes).catch((e: unknown) => {
        this.cache = [];
        this.deps.warn(`time travel: loading ${projection.name} from ${checkpoint.dir} failed: ${(e as Error).message}`);
      });
    }
    state.seq = checkpoint.seq;
    return state;
  }

  /** Drops cached states (e.g. when the log's files change under them is not a reason: events never change). */
  clear(): void {
    this.cache = [];
  }

  diff(from: AsOf, to: AsOf): DiffResult {
    const fromSeq = this.resolve(from, 'from');
    const toSeq = this.resolve(to, 'to');
    if (fromSeq > toSeq) throw mnemoError('VALIDATION_FAILED', { field: 'from', reason: `seq ${fromSeq} is after to (seq ${toSeq})` });
    // Snapshot the earlier state before building the later one: building may roll the cached earlier state forward.
    const before = summarize(this.stateAt(fromSeq));
    const after = summarize(this.stateAt(toSeq));
    const result: DiffResult = { from: fromSeq, to: toSeq, nodes: { added: [], updated: [], deleted: [] }, edges: { added: [], deleted: [] } };
    for (const [id, version] of after.nodes) {
      const old = before.nodes.get(id);
      if (old === undefined) result.nodes.added.push(id);
      else if (old !== version) result.nodes.updated.push(id);
    }
    for (const id of before.nodes.keys()) if (!after.nodes.has(id)) result.nodes.deleted.push(id);
    for (const id of after.edges) if (!before.edges.has(id)) result.edges.added.push(id);
    for (const id of before.edges) if (!after.edges.has(id)) result.edges.deleted.push(id);
    for (const list of [result.nodes.added, result.nodes.updated, result.nodes.deleted, result.edges.added, result.edges.deleted]) list.sort();
    return result;
  }
}

/**
 * Node id → version, and edge ids. A node deleted and created again in between counts as updated
 * (its version differs), since the id is the same node to a caller.
 */
function summarize(state: HistoricalState): { nodes: Map<string, number>; edges: Set<string> } {
  const nodes = new Map<string, number>();
  const edges = new Set<string>();
  for (const id of state.nodes.ids()) {
    nodes.set(id, state.nodes.get(id)!.version);
    for (const edge of state.adjacency.out(id)) edges.add(edge.id);
  }
  return { nodes, edges };
}
