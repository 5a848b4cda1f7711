// The engine: open → replay the log → fan out to projections; append(); queries; close().
//
// Write path: validate the whole batch against the current state (src/events.ts), stamp the
// envelope (seq, ts), encode it as one WAL record, write it to the OS synchronously, apply it to
// every projection, then wait for the durability the caller asked for. Because everything up to
// the WAL write is synchronous, concurrent appends cannot interleave between validation and apply,
// and a later batch always validates against the effects of every earlier one.
//
// Applying before the fsync completes means a read may briefly see a write that is not yet
// durable. If that fsync then fails, the engine stops accepting writes (WAL_IO), the way
// PostgreSQL panics on a failed fsync: retrying an fsync can silently lose data.

import { readdirSync, renameSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';

import { openWal, type Wal } from '../wal/wal.js';
import { parseSegmentName } from '../wal/segment.js';
import { ProjectionRegistry } from '../projections/registry.js';
import { NodeState } from '../projections/node-state.js';
import { Adjacency } from '../projections/adjacency.js';
import { DomainIndex } from '../projections/domain-index.js';
import { CrossDomainIndex } from '../projections/cross-domain.js';
import { VectorIndex } from '../projections/vector-index.js';
import { TextIndex, textRestoreSliceDocs } from '../projections/text-index.js';
import type {
  AddEdgeInput,
  TextHit,
  AddNodeInput,
  AppendResult,
  AsOf,
  CrossDomainPage,
  Direction,
  EdgeRecord,
  EmbedInput,
  EngineOptions,
  EngineStats,
  MnemoEngine,
  NeighborNode,
  NeighborsOptions,
  NodeRecord,
  Page,
  RecallHit,
  RecallOptions,
  SimilarHit,
  Subgraph,
} from './api.js';
import {
  checkpointDueAfterEvents,
  checkpointHoldFactor,
  checkpointQuietMs,
  checkpointIntervalEventsDefault,
  checkpointIntervalMsDefault,
  checkpointsDirName,
  listCheckpoints,
  prepareCheckpointDir,
  readCheckpoint,
  writeCheckpoint,
  type LoadedCheckpoint,
  type WrittenCheckpoint,
} from './checkpoint.js';
import { compactionPollMs, Compactor, parquetDirName, recoverParquetDir, type CompactionStats, type ParquetFileInfo } from './compaction.js';
import { EventLog, SeqTimeIndex, TimeTravel, type DiffResult, type HistoricalState } from './history.js';
import { isMnemoError, mnemoError } from './errors.js';
import { encodeEvents } from './event-codec.js';
import { prepareBatch, type Properties, type RawEvent, type StateView, type StoredEvent } from './events.js';
import { batchBytesMax, eventBytesMax } from './limits.js';
import { BackgroundIndexer } from './query/background-indexer.js';
import { GraphQueries, pageFromSlice } from './query/graph.js';
import { recall } from './query/recall.js';
import { limitOption, offsetOption, topKOption, vectorOption } from './query/options.js';

/**
 * Engine options beyond the public EngineOptions: the checkpoint policy and storage knobs. Defaults
 * are documented where they are defined (src/checkpoint.ts, src/compaction.ts, src/limits.ts).
 */
export interface EngineTuning {
  /** Checkpoint after this many events since the last checkpoint; default checkpointIntervalEventsDefault (100K). 0 turns the event trigger off. */
  checkpointEveryEvents?: number;
  /** Checkpoint after this many ms since the last one if any event arrived; default checkpointIntervalMsDefault (5 min). 0 turns the timer off. */
  checkpointEveryMs?: number;
  /** Compact sealed segments to Parquet in the background; default true. compact() works either way. */
  backgroundCompaction?: boolean;
  /** WAL segment size before rotation; default segmentBytesMax (64 MiB). Small values are for tests and benchmarks. */
  segmentBytesMax?: number;
}

export interface CheckpointResult {
  seq: number;
  dir: string;
  bytes: number;
  ms: number;
}

export class Engine implements MnemoEngine {
  readonly dataDir: string;
  private readonly wal: Wal;
  private readonly registry = new ProjectionRegistry();
  private readonly nodes = new NodeState();
  private readonly adjacency = new Adjacency(this.nodes);
  private readonly domains = new DomainIndex(this.nodes);
  private readonly crossDomains: CrossDomainIndex;
  private readonly vectors: VectorIndex;
  private readonly texts = new TextIndex(
    (id) => this.nodes.propertiesOf(id),
    () => this.nodes.ids(),
  );
  private readonly graph: GraphQueries;
  private readonly indexer: BackgroundIndexer;
  private readonly view: StateView;
  private readonly embedder: EngineOptions['embed'];
  /** A configured `vector.dim` binds the first vector too. */
  private readonly prepareOptions: { dimDefault?: number };
  private closed = false;
  /** Set when a WAL write or fsync failed: the projections may hold events the log does not. */
  private failure: Error | null = null;
  // ---- history, checkpoints, compaction (issue 4) ----
  private readonly seqTime = new SeqTimeIndex();
  private readonly log: EventLog;
  private readonly compactor: Compactor;
  private readonly timeTravel: TimeTravel;
  private readonly warn: (message: string) => void;
  private readonly tuning: Required<EngineTuning>;
  private readonly syncsToDisk: boolean;
  private checkpointSeq = 0;
  private lastAppendAt = 0;
  private lastCheckpointAt: number;
  private lastCheckpoint: WrittenCheckpoint | null = null;
  private checkpointsWritten = 0;
  private checkpointing: Promise<CheckpointResult> | null = null;
  private timer: NodeJS.Timeout | null = null;

  private constructor(dataDir: string, wal: Wal, options: EngineOptions & EngineTuning, parquetFiles: ParquetFileInfo[], warn: (message: string) => void) {
    this.dataDir = dataDir;
    this.wal = wal;
    this.warn = warn;
    this.embedder = options.embed;
    this.syncsToDisk = (options.durability ?? 'fsync') !== 'none';
    this.tuning = {
      checkpointEveryEvents: options.checkpointEveryEvents ?? checkpointIntervalEventsDefault,
      checkpointEveryMs: options.checkpointEveryMs ?? checkpointIntervalMsDefault,
      backgroundCompaction: options.backgroundCompaction ?? true,
      segmentBytesMax: options.segmentBytesMax ?? 0,
    };
    this.lastCheckpointAt = Date.now();
    this.compactor = new Compactor(wal, join(dataDir, parquetDirName), parquetFiles, warn);
    this.log = new EventLog(wal, () => this.compactor.files);
    this.crossDomains = new CrossDomainIndex(this.nodes, (nodeId) => this.adjacency.edgesOf(nodeId));
    this.vectors = new VectorIndex({ dim: options.vector?.dim, space: options.vector?.space ?? 'cosine' });
    // Registration order is apply order. The domain and cross-domain indexes read a node's domain
    // from node-state, so they come before it (on an update they must see the old domain), and so
    // does adjacency, which must still find a deleted node's handle; the text index reads merged
    // properties from node-state, so it comes after.
    for (const p of [this.domains, this.crossDomains, this.adjacency, this.nodes, this.vectors, this.texts, this.seqTime]) this.registry.register(p);
    this.graph = new GraphQueries(this.nodes, this.adjacency);
    this.indexer = new BackgroundIndexer(this.vectors);
    this.prepareOptions = options.vector?.dim === undefined ? {} : { dimDefault: options.vector.dim };
    this.view = {
      hasNode: (id) => this.nodes.rememberHandleOf(id) >= 0,
      nodeType: (id) => this.nodes.typeOfNode(id),
      hasEdge: (id) => this.adjacency.hasEdge(id),
      edgeIdsOf: (id) => this.adjacency.edgeIdsOf(id),
      hasVector: (id) => this.vectors.has(id),
      vectorDim: () => this.vectors.dim,
    };
    this.timeTravel = new TimeTravel({
      log: this.log,
      seqTime: this.seqTime,
      lastSeq: () => this.wal.lastSeq,
      checkpoints: () => listCheckpoints(join(this.dataDir, checkpointsDirName)),
      live: (): HistoricalState => ({ seq: this.wal.lastSeq, nodes: this.nodes, adjacency: this.adjacency, graph: this.graph }),
      warn,
    });
  }

  /**
   * Open: the WAL (recovering its tail), then the Parquet directory (orphans and duplicates of an
   * interrupted compaction removed), then the newest checkpoint that passes every check, then the
   * events after it (from Parquet and the WAL). A damaged or unusable checkpoint is reported and
   * the next older one tried, down to a full replay from seq 1.
   */
  static async open(options: EngineOptions & EngineTuning): Promise<Engine> {
    const dataDir = options.dataDir;
    await mkdir(dataDir, { recursive: true });
    const walDir = join(dataDir, 'wal');
    const wal = await openWal({
      dir: walDir,
      durability: options.durability ?? 'fsync',
      fsyncIntervalMs: options.fsyncIntervalMs,
      repair: options.repair,
      // Open replays from the newest checkpoint: the log before it need not be read now.
      coveredThrough: listCheckpoints(join(dataDir, checkpointsDirName))[0]?.seq ?? 0,
      ...(options.segmentBytesMax !== undefined ? { segmentBytesMax: options.segmentBytesMax } : {}),
    });
    const warn = options.onWarning ?? ((message: string) => console.warn(`mnemo: ${message}`));
    reportRecovery(wal, warn);
    try {
      const parquetFiles = recoverParquetDir(join(dataDir, parquetDirName), walFirstSeq(walDir, wal), warn);
      const engine = await Engine.fromNewestCheckpoint(dataDir, wal, options, parquetFiles, warn);
      engine.startBackgroundWork();
      return engine;
    } catch (e) {
      await wal.close();
      throw e;
    }
  }

  private static async fromNewestCheckpoint(
    dataDir: string,
    wal: Wal,
    options: EngineOptions & EngineTuning,
    parquetFiles: ParquetFileInfo[],
    warn: (message: string) => void,
  ): Promise<Engine> {
    for (const candidate of listCheckpoints(join(dataDir, checkpointsDirName))) {
      if (candidate.seq > wal.lastSeq) {
        // Written before a crash that lost the log's unsynced tail: it holds events the log does not.
        warn(`checkpoint ${candidate.dir} is at seq ${candidate.seq}, past the end of the log (seq ${wal.lastSeq}); not used`);
        continue;
      }
      const engine = new Engine(dataDir, wal, options, parquetFiles, warn);
      try {
        await engine.loadCheckpoint(readCheckpoint(candidate.dir));
      } catch (e) {
        if (!isMnemoError(e, 'CHECKPOINT_CORRUPT') && !(e instanceof Error && e.message.startsWith('assertion failed'))) throw e;
        warn(`${e.message}; falling back to an older checkpoint or a full replay`);
        setAside(candidate.dir, warn);
        continue;
      }
      engine.replayFrom(candidate.seq + 1);
      return engine;
    }
    const engine = new Engine(dataDir, wal, options, parquetFiles, warn);
    // Text is indexed after open, from the final state; a new data dir has nothing to defer.
    if (wal.lastSeq > 0) engine.texts.replayDeferred(() => engine.replayFrom(1));
    else engine.replayFrom(1);
    return engine;
  }

  /** Every registered projection must be in the checkpoint (a projection added since makes it unusable, not wrong). */
  private async loadCheckpoint(checkpoint: LoadedCheckpoint): Promise<void> {
    // Every load starts before any is awaited, so hnswlib reads the vector index's file on a worker
    // thread while the rest load (~0.25 s of a 1M-event restart). The vector index reads no other
    // projection; node-state comes next, as the rest refer to its handles.
    const order = [this.vectors, this.nodes, ...this.registry.all().filter((p) => p !== this.nodes && p !== this.vectors)];
    const missing = order.find((projection) => !checkpoint.parts.has(projection.name));
    if (missing !== undefined) throw mnemoError('CHECKPOINT_CORRUPT', { file: checkpoint.dir, reason: `has no state for projection '${missing.name}'` });
    await Promise.all(order.map((projection) => projection.load(checkpoint.parts.get(projection.name)!, checkpoint.dir)));
    this.checkpointSeq = checkpoint.seq;
    this.lastCheckpointAt = checkpoint.createdAt;
  }

  private replayFrom(fromSeq: number): void {
    for (const event of this.log.events(fromSeq)) this.registry.apply(event);
    this.nodes.forgetRemembered();
    this.log.forgetDecoded();
    this.indexer.kick();
    this.restoreTextInBackground();
  }

  /** Indexes a loaded checkpoint's (or a replay's) text documents in slices, yielding to the event loop between them. */
  private restoreTextInBackground(): void {
    const slice = (): void => {
      if (!this.closed && this.texts.restoreSome(textRestoreSliceDocs)) setImmediate(slice);
    };
    if (this.texts.restoringPending) setImmediate(slice);
  }

  /** The periodic checkpoint (by time) and compaction poll; the event trigger runs on append. */
  private startBackgroundWork(): void {
    this.timer = setInterval(() => {
      if (this.closed || this.failure !== null) return;
      const everyMs = this.tuning.checkpointEveryMs;
      const now = Date.now();
      if (everyMs > 0 && this.wal.lastSeq > this.checkpointSeq && now - this.lastCheckpointAt >= everyMs) this.checkpointInBackground();
      if (this.checkpointBacklog() >= 1 && now - this.lastAppendAt >= checkpointQuietMs) this.checkpointInBackground();
      if (this.tuning.backgroundCompaction) this.compactor.kick();
    }, compactionPollMs);
    this.timer.unref(); // background work must not keep a process alive
    if (this.tuning.backgroundCompaction) this.compactor.kick();
  }

  /** Events since the last checkpoint, in units of what the event trigger says is due (0 when that trigger is off). */
  private checkpointBacklog(): number {
    const everyEvents = this.tuning.checkpointEveryEvents;
    if (everyEvents <= 0) return 0;
    return (this.wal.lastSeq - this.checkpointSeq) / checkpointDueAfterEvents(everyEvents, this.checkpointSeq);
  }

  private checkpointInBackground(): void {
    if (this.checkpointing !== null) return;
    this.checkpoint().catch((e: unknown) => this.warn(`background checkpoint failed (the log still holds every event): ${(e as Error).message}`));
  }

  // ---- writes ----

  async append(input: unknown): Promise<AppendResult> {
    const { events, firstSeq, durable } = this.logAndApply(input);
    await this.durable(durable);
    return { firstSeq, lastSeq: firstSeq + events.length - 1 };
  }

  /**
   * Validates, logs and applies a batch, all synchronously (so no other append comes between), and
   * returns the events as logged and the promise of their durability. Whatever node-state
   * remembered for the batch is forgotten however this ends.
   */
  private logAndApply(input: unknown): { events: RawEvent[]; firstSeq: number; durable: Promise<void> } {
    this.assertWritable();
    try {
      const events = prepareBatch(input, this.view, this.prepareOptions);
      const firstSeq = this.wal.lastSeq + 1;
      const ts = Date.now();
      const payload = encodeChecked(events, ts);
      let durable: Promise<void>;
      try {
        durable = this.wal.append(firstSeq, events.length, payload);
      } catch (e) {
        throw this.fail(e);
      }
      let vectorStored = false;
      for (let i = 0; i < events.length; i++) {
        const { type, payload } = events[i]!;
        this.registry.apply({ seq: firstSeq + i, ts, type, payload } as StoredEvent);
        vectorStored ||= type === 'prime.vector.stored';
      }
      if (vectorStored) this.indexer.kick();
      this.lastAppendAt = ts;
      // Hold a due checkpoint while appends keep coming (the background poll takes it once writes
      // pause), unless the tail has grown far past due: a checkpoint serialises every projection on
      // this thread, and during a bulk load it cost ~36% of durable ingest (113K → 72K events/s).
      if (this.checkpointBacklog() >= checkpointHoldFactor) this.checkpointInBackground();
      return { events, firstSeq, durable };
    } finally {
      this.nodes.forgetRemembered();
    }
  }

  private async durable(written: Promise<void>): Promise<void> {
    try {
      await written;
    } catch (e) {
      throw this.fail(e);
    }
  }

  async addNode(input: AddNodeInput): Promise<{ nodeId: string }> {
    const [event] = await this.appendOne({ type: 'prime.node.created', payload: { id: input.id, type: input.type, properties: input.properties ?? {} } });
    return { nodeId: event.payload.id };
  }

  async updateNode(id: string, properties: Properties): Promise<void> {
    await this.append([{ type: 'prime.node.updated', payload: { id, properties } }]);
  }

  async deleteNode(id: string): Promise<void> {
    await this.append([{ type: 'prime.node.deleted', payload: { id } }]);
  }

  async addEdge(input: AddEdgeInput): Promise<{ edgeId: string }> {
    const [event] = await this.appendOne({ type: 'prime.edge.created', payload: { ...input } });
    return { edgeId: event.payload.id };
  }

  async deleteEdge(id: string): Promise<void> {
    await this.append([{ type: 'prime.edge.deleted', payload: { id } }]);
  }

  /** Stores a vector; given text and no vector, the configured embedder makes one, or the text alone is stored (never a made-up vector). */
  async embed(input: EmbedInput): Promise<void> {
    let vector = input.vector;
    if (vector === undefined && typeof input.text === 'string' && this.embedder !== undefined) {
      const [made] = await this.embedder([input.text]);
      if (!(made instanceof Float32Array) && !Array.isArray(made)) {
        throw mnemoError('VALIDATION_FAILED', { field: 'embed', reason: 'the configured embedder returned no vector for the text' });
      }
      vector = made;
    }
    await this.append([{ type: 'prime.vector.stored', payload: { ...input, ...(vector === undefined ? {} : { vector }) } }]);
  }

  async deleteVector(id: string): Promise<void> {
    await this.append([{ type: 'prime.vector.deleted', payload: { id } }]);
  }

  /** Appends one raw event and returns the logged form (with the id the engine generated, if any). */
  private async appendOne(event: unknown): Promise<[RawEvent]> {
    const { events, durable } = this.logAndApply([event]);
    await this.durable(durable);
    return events as [RawEvent];
  }

  private assertWritable(): void {
    if (this.closed) throw mnemoError('ENGINE_CLOSED', {});
    if (this.failure) throw this.failure;
  }

  private fail(e: unknown): Error {
    this.failure ??= e instanceof Error ? e : new Error(String(e));
    return this.failure;
  }

  // ---- reads (synchronous) ----

  getNode(id: string, options?: { asOf?: AsOf }): NodeRecord | null {
    const nodes = options?.asOf === undefined ? this.nodes : this.stateAsOf(options.asOf).nodes;
    return nodes.get(id) ?? null;
  }

  getEdge(id: string): EdgeRecord | null {
    return this.adjacency.getEdge(id) ?? null;
  }

  neighbors(id: string, options: NeighborsOptions = {}): Page<NeighborNode> {
    if (options.asOf !== undefined) {
      const state = this.stateAsOf(options.asOf);
      if (!state.nodes.has(id)) throw mnemoError('NODE_NOT_FOUND', { id });
      return state.graph.neighbors(id, options);
    }
    if (!this.nodes.has(id)) throw mnemoError('NODE_NOT_FOUND', { id });
    return this.graph.neighbors(id, options);
  }

  /** The node state and adjacency after the event `asOf` names (a seq, or an ISO time: the last seq at or before it). */
  private stateAsOf(asOf: AsOf): HistoricalState {
    return this.timeTravel.stateAt(this.timeTravel.resolve(asOf));
  }

  subgraph(id: string, options: { depth?: number } = {}): Subgraph {
    if (!this.nodes.has(id)) throw mnemoError('NODE_NOT_FOUND', { id });
    return this.graph.subgraph(id, options.depth);
  }

  shortestPath(from: string, to: string, options: { relation?: string; direction?: Direction } = {}): NodeRecord[] | null {
    for (const id of [from, to]) if (!this.nodes.has(id)) throw mnemoError('NODE_NOT_FOUND', { id });
    return this.graph.shortestPath(from, to, options);
  }

  search(options: { type: string; limit?: number; offset?: number }): Page<NodeRecord> {
    const offset = offsetOption(options.offset);
    const { ids, total } = this.domains.page(options.type, offset, limitOption(options.limit));
    return pageFromSlice(ids.map((id) => this.nodes.get(id)!), total, offset);
  }

  crossDomain(domainA: string, domainB: string, options: { limit?: number; offset?: number } = {}): CrossDomainPage {
    const offset = offsetOption(options.offset);
    const { edges, total } = this.crossDomains.page(domainA, domainB, offset, limitOption(options.limit));
    const { nodes, ...paging } = pageFromSlice(edges, total, offset);
    return { edges: nodes, ...paging };
  }

  similar(query: { id: string } | { vector: number[] | Float32Array }, options: { topK?: number; type?: string } = {}): SimilarHit[] {
    const topK = topKOption(options.topK, 5);
    let vector: Float32Array | readonly number[];
    let exclude: string | undefined;
    if ('id' in query && typeof query.id === 'string') {
      const stored = this.vectors.get(query.id);
      if (!stored) throw mnemoError('VECTOR_NOT_FOUND', { id: query.id });
      vector = stored.vector;
      exclude = query.id;
    } else {
      vector = vectorOption((query as { vector?: unknown }).vector, this.vectors.dim, 'vector');
    }
    const type = options.type;
    const accept =
      exclude === undefined && type === undefined
        ? undefined
        : (id: string) => id !== exclude && (type === undefined || this.nodes.typeOfNode(id) === type);
    const hits: SimilarHit[] = this.vectors.search(vector, topK, accept);
    for (const hit of hits) {
      const text = this.vectors.textOf(hit.id);
      if (text !== undefined) hit.text = text;
    }
    return hits;
  }

  /** BM25 over nodes' string properties and vectors' text; `type` keeps nodes of that type. */
  searchText(query: string, options: { topK?: number; type?: string } = {}): TextHit[] {
    if (typeof query !== 'string' || query.trim() === '') throw mnemoError('VALIDATION_FAILED', { field: 'query', reason: 'expected a non-empty string' });
    const type = options.type;
    const accept = type === undefined ? undefined : (id: string) => this.nodes.typeOfNode(id) === type;
    return this.texts.search(query, topKOption(options.topK, 10), accept);
  }

  recall(options: RecallOptions): RecallHit[] {
    return recall(options, { nodes: this.nodes, vectors: this.vectors, texts: this.texts, graph: this.graph, now: Date.now() });
  }

  /** Every event that touched the entity (its own, and those of edges created with it as an end), over Parquet and the WAL. */
  history(entityId: string): StoredEvent[] {
    return this.log.history(entityId);
  }

  /** Ids of nodes added/updated/deleted and edges added/deleted between two points (seqs or ISO times). */
  diff(from: AsOf, to: AsOf): DiffResult {
    return this.timeTravel.diff(from, to);
  }

  /** Every event from `fromSeq` on, in order, over Parquet and the WAL (export, tools). Do not append while iterating. */
  events(fromSeq = 1): Generator<StoredEvent> {
    return this.log.events(fromSeq);
  }

  stats(): EngineStats {
    return {
      totalNodes: this.nodes.count,
      totalEdges: this.adjacency.count,
      totalVectors: this.vectors.count,
      nodesByType: this.nodes.countsByType(),
      edgesByRelation: this.adjacency.countsByRelation(),
      eventCount: this.wal.lastSeq,
      lastSeq: this.wal.lastSeq,
      vectorsPending: this.vectors.pendingCount,
      vectorsIndexedPerSecond: this.indexer.ratePerSecond,
      wal: this.wal.stats(),
      checkpoint: this.checkpointStats(),
      compaction: this.compactor.stats(),
    };
  }

  private checkpointStats(): { seq: number; ageMs: number | null; eventsSince: number; written: number; lastMs: number | null; lastBytes: number | null; running: boolean } {
    return {
      seq: this.checkpointSeq,
      ageMs: this.checkpointSeq > 0 ? Date.now() - this.lastCheckpointAt : null,
      eventsSince: this.wal.lastSeq - this.checkpointSeq,
      written: this.checkpointsWritten,
      lastMs: this.lastCheckpoint?.ms ?? null,
      lastBytes: this.lastCheckpoint?.bytes ?? null,
      running: this.checkpointing !== null,
    };
  }

  /** Canonical hashes of every projection, for tests comparing live and replayed state. */
  digests(): Record<string, string> {
    return Object.fromEntries(this.registry.all().map((p) => [p.name, p.digest()]));
  }

  whenIndexed(): Promise<void> {
    return this.indexer.whenIdle();
  }

  /**
   * Writes a checkpoint at the current last seq (one at a time: a call during another waits for it,
   * then writes again if events arrived meanwhile). Returns the checkpoint written or already there.
   */
  async checkpoint(): Promise<CheckpointResult> {
    this.assertWritable();
    while (this.checkpointing !== null) {
      const previous = await this.checkpointing.catch(() => null);
      if (previous !== null && previous.seq === this.wal.lastSeq) return previous;
    }
    const run = this.writeCheckpointNow().finally(() => {
      if (this.checkpointing === run) this.checkpointing = null;
    });
    this.checkpointing = run;
    return run;
  }

  private async writeCheckpointNow(): Promise<CheckpointResult> {
    const seq = this.wal.lastSeq;
    // One consistent seq: every save() snapshots its state synchronously before its first await,
    // and no append can run between these calls (appends apply synchronously too). The vector
    // index holds graph writes back while hnswlib writes its file, so its bytes match its snapshot.
    const root = join(this.dataDir, checkpointsDirName);
    const dir = prepareCheckpointDir(root, seq);
    const saving = this.registry.all().map((p) => ({ name: p.name, bytes: p.save(dir ?? undefined) }));
    const parts = await Promise.all(saving.map(async ({ name, bytes }) => ({ name, bytes: await bytes })));
    // A checkpoint must never be ahead of the durable log: after a crash it would hold lost events.
    if (this.syncsToDisk) await this.wal.flush();
    const written = await writeCheckpoint(root, seq, parts, dir);
    if (seq > this.checkpointSeq) {
      this.checkpointSeq = seq;
      this.lastCheckpointAt = Date.now();
    }
    this.lastCheckpoint = written;
    this.checkpointsWritten++;
    return { seq: written.seq, dir: written.dir, bytes: written.bytes, ms: written.ms };
  }

  /**
   * Seals the active WAL segment and compacts every sealed one to Parquet: afterwards every event
   * is in Parquet (the new active segment is empty until the next append).
   */
  async compact(): Promise<CompactionStats> {
    this.assertWritable();
    await this.wal.rotate();
    await this.compactor.compactAll();
    return this.compactor.stats();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== null) clearInterval(this.timer);
    this.indexer.stop();
    await this.compactor.close();
    if (this.checkpointing !== null) await this.checkpointing.catch(() => {});
    await this.wal.close();
  }
}

/** The first seq the WAL holds (its oldest segment's name), or the next seq when it holds none. */
function walFirstSeq(walDir: string, wal: Wal): number {
  let first = wal.lastSeq + 1;
  for (const name of readdirSync(walDir)) {
    const seq = parseSegmentName(name);
    if (seq !== null && seq < first) first = seq;
  }
  return first;
}

/** A damaged checkpoint is renamed, not deleted (someone may want to look at it), and no longer listed. */
function setAside(dir: string, warn: (message: string) => void): void {
  try {
    renameSync(dir, `${dir}.damaged-${Date.now()}`);
  } catch (e) {
    warn(`could not set ${dir} aside: ${(e as Error).message}`);
  }
}

/** The batch's WAL payload, within the byte limits for a batch and for one event. */
function encodeChecked(events: readonly RawEvent[], ts: number): Uint8Array {
  const { payload, largestEventBytes, largestEventIndex } = encodeEvents(events, ts);
  if (payload.byteLength > batchBytesMax) {
    throw mnemoError('BATCH_TOO_LARGE', { size: payload.byteLength, max: batchBytesMax, unit: 'bytes encoded' });
  }
  if (largestEventBytes > eventBytesMax) throw mnemoError('EVENT_TOO_LARGE', { bytes: largestEventBytes, max: eventBytesMax, index: largestEventIndex });
  return payload;
}

function reportRecovery(wal: Wal, warn: (message: string) => void): void {
  const { tornTail, repaired } = wal.recovery;
  if (tornTail) warn(`cut a torn tail of ${tornTail.bytesCut} bytes at byte ${tornTail.offset} of ${tornTail.file} (an append that never completed)`);
  for (const r of repaired ?? []) {
    warn(`repair moved ${r.file} aside to ${r.movedTo}: ${r.reason}; events from seq ${r.lostFromSeq ?? '?'} on were lost`);
  }
}

export async function openEngine(options: EngineOptions): Promise<Engine> {
  return Engine.open(options);
}
