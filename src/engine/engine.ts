// The engine composes: it opens the write-ahead log (wal/), recovers the Parquet directory, loads
// the newest usable checkpoint into the projections (projections/registry.ts), replays the events
// after it, and then serves. Writes go through write.ts, reads through reads.ts, background
// checkpoints and compaction through background.ts.

import { join } from 'node:path';
import type { RecordableHistogram } from 'node:perf_hooks';

import { openWal, type Wal } from '../../wal/wal.js';
import { ProjectionRegistry } from '../../projections/registry.js';
import type { SeqTimeIndex } from '../../projections/seq-time.js';
import { textRestoreSliceDocs } from '../../projections/text-index.js';
import type {
  AddEdgeInput,
  AddNodeInput,
  AppendResult,
  CheckpointResult,
  CompactionStats,
  EmbedInput,
  Embedder,
  EngineOptions,
  EngineStats,
  MemoryIndex,
  MnemoEngine,
  PromptContext,
  ReplicationStats,
  RecallHit,
  RecallOptions,
  SimilarHit,
  TextSimilarQuery,
  WordsAnswer,
} from '../kernel/api.js';
import { asEmbedder } from '../embed/embedder.js';
import { rememberEmbedder } from '../embed/remembered.js';
import { Words } from '../embed/words.js';
import { indexTokensDefault, indexTokensMax, indexTokensMin } from '../kernel/limits.js';
import { renderMemoryIndex, renderPromptContext, type MemoryOverview } from '../query/memory-index.js';
import { overviewOf } from './overview.js';
import { isMnemoError, mnemoError } from '../kernel/errors.js';
import type { Properties, RawEvent, StateView, StoredEvent } from '../kernel/events.js';
import { contentDigest } from '../replication/content-digest.js';
import { checkOrigin, HybridClock } from '../replication/hlc.js';
import { ReplicaMerge } from '../replication/merge.js';
import { startReplication, type ReplicaHost, type ReplicationRuntime } from '../replication/runtime.js';
import { ensureDataDir, setAside } from '../storage/files.js';
import { Background, type EngineTuning } from './background.js';
import { BackgroundIndexer } from './background-indexer.js';
import { checkpointsDirName, listCheckpoints, readCheckpoint, type LoadedCheckpoint } from './checkpoint.js';
import { Compactor, parquetDirName, recoverParquetDir, repairHint, type ParquetFileInfo } from './compaction.js';
import { stillApplies, type LostSeqs } from './lost-seqs.js';
import { EventLog, TimeTravel, type HistoricalState } from './history.js';
import { EngineReads } from './reads.js';
import { WritePath, type ReplicaStamping } from './write.js';
import { Federation } from '../peers/federation.js';
import { loadIdentity } from '../peers/identity.js';

export type { EngineTuning } from './background.js';

/** The Parquet directory after recovery: its files, and the seqs a repair gave up. */
interface RecoveredParquet {
  files: ParquetFileInfo[];
  lost: LostSeqs[];
}

export class Engine extends EngineReads implements MnemoEngine {
  readonly dataDir: string;
  private readonly wal: Wal;
  private readonly registry: ProjectionRegistry;
  private readonly seqTime: SeqTimeIndex;
  private readonly indexer: BackgroundIndexer;
  private readonly writes: WritePath;
  private readonly background: Background;
  private readonly compactor: Compactor;
  private readonly merge: ReplicaMerge;
  /** Replicated mode's stamping (origin, clock); undefined otherwise. */
  private readonly replica: ReplicaStamping | undefined;
  /** The NATS side of replicated mode, once started. */
  private replication: ReplicationRuntime | undefined;
  private localBatchListener: ((firstSeq: number, count: number, payload: Uint8Array) => void) | undefined;
  /** Text queries, the embedder and its caches; replaced at open when an embedder is given. */
  private words: Words;
  /** The memory overview behind prime_index, rebuilt when the seq has moved. */
  private overviewAt: MemoryOverview | undefined;
  private closed = false;
  /** The content digest at a seq: the log only grows, so a digest holds until the next append. */
  private digestCache: { seq: number; digest: string } | undefined;
  private readonly options: EngineOptions;
  private readonly warn: (message: string) => void;

  private readonly view: StateView;

  private constructor(dataDir: string, wal: Wal, options: EngineOptions & EngineTuning, parquet: RecoveredParquet, warn: (message: string) => void) {
    // The merge step is always there: a data dir written in replicated mode must replay through it even when opened without replication.
    const registry = new ProjectionRegistry({ vector: { dim: options.vector?.dim, space: options.vector?.space }, expander: () => new ReplicaMerge() });
    const compactor = new Compactor(wal, join(dataDir, parquetDirName), parquet.files, warn, options.files);
    const log = new EventLog(wal, () => compactor.files, parquet.lost);
    const seqTime = registry.byName['seq-time'];
    let live: () => HistoricalState = () => {
      throw new Error('assertion failed: time travel before the engine is built');
    };
    const timeTravel = new TimeTravel({
      log,
      seqTime,
      lastSeq: () => wal.lastSeq,
      checkpoints: () => listCheckpoints(join(dataDir, checkpointsDirName)),
      live: () => live(),
      warn,
    });
    super(registry.byName, log, timeTravel);
    live = () => ({ seq: this.wal.lastSeq, nodes: this.nodes, adjacency: this.adjacency, graph: this.graph });
    this.dataDir = dataDir;
    this.wal = wal;
    this.registry = registry;
    this.seqTime = seqTime;
    this.compactor = compactor;
    // Outgoing peer requests are signed with this data dir's identity (made here at first start).
    if (options.federation !== undefined) this.federation = new Federation(options.federation, loadIdentity(dataDir));
    this.options = options;
    this.warn = warn;
    this.merge = registry.expander as ReplicaMerge;
    this.replica = options.replication === undefined ? undefined : {
      origin: checkOrigin(options.replication.origin, 'replication.origin'),
      clock: new HybridClock(),
      merge: this.merge,
      onLocalBatch: (firstSeq, count, payload) => this.localBatchListener?.(firstSeq, count, payload),
      refused: () => this.replication?.refused() ?? null,
    };
    this.words = new Words(this.wordsReads(), undefined);
    this.indexer = new BackgroundIndexer(this.vectors);
    this.background = new Background({
      dataDir,
      wal,
      registry,
      compactor,
      tuning: options,
      syncsToDisk: (options.durability ?? 'fsync') !== 'none',
      active: () => !this.closed && !this.writes.failed,
      recover: () => {
        if (this.closed || !this.writes.failed) return;
        if (this.writes.tryRecover()) warn('writes resumed: the disk takes data again');
      },
      catchingUp: () => this.replication?.catchingUp() ?? false,
      warn,
    });
    const view: StateView = {
      hasNode: (id) => this.nodes.rememberHandleOf(id) >= 0,
      nodeType: (id) => this.nodes.typeOfNode(id),
      hasEdge: (id) => this.adjacency.hasEdge(id),
      edgeIdsOf: (id) => this.adjacency.edgeIdsOf(id),
      hasVector: (id) => this.vectors.has(id),
      vectorDim: () => this.vectors.dim,
    };
    this.view = view;
    this.writes = new WritePath({
      wal,
      registry,
      nodes: this.nodes,
      view,
      prepareOptions: options.vector?.dim === undefined ? {} : { dimDefault: options.vector.dim },
      isClosed: () => this.closed,
      ...(this.replica === undefined ? {} : { replica: this.replica }),
      onApplied: (ts, vectorStored) => {
        if (vectorStored) this.indexer.kick();
        this.background.appended(ts);
      },
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
    ensureDataDir(dataDir);
    // Warmed before anything else: a model that will not load fails the open before the log is locked.
    const embedder = options.embed === undefined ? undefined : asEmbedder(options.embed);
    await embedder?.warm();
    const walDir = join(dataDir, 'wal');
    const wal = await openWal({
      dir: walDir,
      durability: options.durability ?? 'fsync',
      fsyncIntervalMs: options.fsyncIntervalMs,
      commit: options.commit,
      repair: options.repair,
      // Open replays from the newest checkpoint: the log before it need not be read now.
      coveredThrough: listCheckpoints(join(dataDir, checkpointsDirName))[0]?.seq ?? 0,
      ...(options.segmentBytesMax !== undefined ? { segmentBytesMax: options.segmentBytesMax } : {}),
      ...(options.files !== undefined ? { files: options.files } : {}),
    });
    const warn = options.onWarning ?? ((message: string) => console.warn(`mnemo: ${message}`));
    reportRecovery(wal, warn);
    try {
      const parquet = recoverParquetDir(join(dataDir, parquetDirName), wal.firstSeq, warn, options.files, options.repair === true);
      const engine = await Engine.fromNewestCheckpoint(dataDir, wal, options, parquet, warn);
      // The clock starts past every stamp in the log, ours included: stamps from one origin only grow.
      for (const hlc of engine.merge.newestByOrigin().values()) engine.replica?.clock.receive(hlc);
      if (embedder !== undefined) {
        rememberEmbedder(dataDir, embedder, engine.vectors.dim ?? null);
        engine.words = new Words(engine.wordsReads(), embedder);
      }
      engine.background.start();
      return engine;
    } catch (e) {
      await wal.close();
      // Damage in a Parquet file (found by recovery or by the replay that reads it): say the way forward.
      if (isMnemoError(e, 'PARQUET_CORRUPT')) throw mnemoError('PARQUET_CORRUPT', { file: e.details.file, reason: `${e.details.reason}${repairHint}` }, { cause: e });
      throw e;
    }
  }

  private static async fromNewestCheckpoint(
    dataDir: string,
    wal: Wal,
    options: EngineOptions & EngineTuning,
    parquet: RecoveredParquet,
    warn: (message: string) => void,
  ): Promise<Engine> {
    for (const candidate of listCheckpoints(join(dataDir, checkpointsDirName))) {
      if (candidate.seq > wal.lastSeq) {
        // Written before a crash that lost the log's unsynced tail: it holds events the log does not.
        warn(`checkpoint ${candidate.dir} is at seq ${candidate.seq}, past the end of the log (seq ${wal.lastSeq}); not used`);
        continue;
      }
      const engine = new Engine(dataDir, wal, options, parquet, warn);
      try {
        await engine.loadCheckpoint(readCheckpoint(candidate.dir));
      } catch (e) {
        if (!isMnemoError(e, 'CHECKPOINT_CORRUPT')) throw e;
        warn(`${candidate.dir}: ${e.message}; falling back to an older checkpoint or a full replay`);
        const movedTo = setAside(candidate.dir);
        if (movedTo instanceof Error) warn(`could not set ${candidate.dir} aside: ${movedTo.message}`);
        continue;
      }
      engine.replayFrom(candidate.seq + 1);
      return engine;
    }
    const engine = new Engine(dataDir, wal, options, parquet, warn);
    // Text is indexed after open, from the final state; a new data dir has nothing to defer.
    if (wal.lastSeq > 0) engine.texts.replayDeferred(() => engine.replayFrom(1));
    else engine.replayFrom(1);
    return engine;
  }

  /** Every registered projection must be in the checkpoint (a projection added since makes it unusable, not wrong). */
  private async loadCheckpoint(checkpoint: LoadedCheckpoint): Promise<void> {
    // Every load starts before any is awaited, in the registry's load order (the vector index first:
    // hnswlib reads its file on a worker thread while the rest load, ~0.25 s of a 1M-event restart).
    const order = this.registry.loadOrder.filter((projection) => checkpoint.parts.has(projection.name) || projection !== this.registry.expander);
    const missing = order.find((projection) => !checkpoint.parts.has(projection.name));
    if (missing !== undefined) throw mnemoError('CHECKPOINT_CORRUPT', { file: checkpoint.dir, reason: `has no state for projection '${missing.name}'` });
    await Promise.all(order.map((projection) => projection.load(checkpoint.parts.get(projection.name)!, checkpoint.dir)));
    this.background.loadedCheckpoint(checkpoint.seq, checkpoint.createdAt);
  }

  private replayFrom(fromSeq: number): void {
    if (this.log.crossesLost(fromSeq)) this.replayAcrossLost(fromSeq);
    else for (const event of this.log.events(fromSeq)) this.registry.apply(event);
    this.nodes.forgetRemembered();
    this.log.forgetDecoded();
    this.indexer.kick();
    this.restoreTextInBackground();
  }

  /**
   * A replay over seqs a repair gave up (no checkpoint covers them): each event after the first
   * lost seq is applied only if it still applies (lost-seqs.ts stillApplies); the others are left
   * out and counted, so the state is what the surviving events make.
   */
  private replayAcrossLost(fromSeq: number): void {
    const firstLost = this.log.lost.find((range) => range.lastSeq >= fromSeq)!.firstSeq;
    const prepareOptions = this.options.vector?.dim === undefined ? {} : { dimDefault: this.options.vector.dim };
    const forget = () => this.nodes.forgetRemembered();
    let left = 0;
    for (const event of this.log.events(fromSeq)) {
      if (event.seq < firstLost || stillApplies(event, this.view, forget, prepareOptions)) this.registry.apply(event);
      else left++;
    }
    if (left > 0) this.warn(`the replay went on past seqs lost to a repair: ${left} later event(s) that needed them were left out of the state (they stay in the log)`);
  }

  /** Indexes a loaded checkpoint's (or a replay's) text documents in slices, yielding to the event loop between them. */
  private restoreTextInBackground(): void {
    const slice = (): void => {
      if (!this.closed && this.texts.restoreSome(textRestoreSliceDocs)) setImmediate(slice);
    };
    if (this.texts.restoringPending) setImmediate(slice);
  }

  // ---- writes ----

  async append(input: unknown): Promise<AppendResult> {
    const { events, firstSeq, durable } = this.writes.logAndApply(input);
    await this.writes.durable(durable);
    const lastSeq = firstSeq + events.length - 1;
    await this.replication?.acknowledged(lastSeq);
    return { firstSeq, lastSeq };
  }

  /** Appends one raw event and returns the logged form (with the id the engine generated, if any). */
  private async appendOne(event: unknown): Promise<RawEvent> {
    const { events, firstSeq, durable } = this.writes.logAndApply([event]);
    await this.writes.durable(durable);
    await this.replication?.acknowledged(firstSeq);
    return events[0]!;
  }

  async addNode(input: AddNodeInput): Promise<{ nodeId: string }> {
    const event = await this.appendOne({ type: 'prime.node.created', payload: { id: input.id, type: input.type, properties: input.properties ?? {} } });
    return { nodeId: event.payload.id };
  }

  async updateNode(id: string, properties: Properties): Promise<void> {
    await this.append([{ type: 'prime.node.updated', payload: { id, properties } }]);
  }

  async deleteNode(id: string): Promise<void> {
    await this.append([{ type: 'prime.node.deleted', payload: { id } }]);
  }

  async addEdge(input: AddEdgeInput): Promise<{ edgeId: string }> {
    const event = await this.appendOne({ type: 'prime.edge.created', payload: { ...input } });
    return { edgeId: event.payload.id };
  }

  async deleteEdge(id: string): Promise<void> {
    await this.append([{ type: 'prime.edge.deleted', payload: { id } }]);
  }

  /** Stores a vector; given text and no vector, the configured embedder makes one, or the text alone is stored (never a made-up vector). */
  async embed(input: EmbedInput): Promise<void> {
    let vector = input.vector;
    if (vector === undefined && typeof input.text === 'string' && this.words.embedder !== undefined) vector = await this.words.vectorOfStoredText(input.text);
    await this.append([{ type: 'prime.vector.stored', payload: { ...input, ...(vector === undefined ? {} : { vector }) } }]);
  }

  async deleteVector(id: string): Promise<void> {
    await this.append([{ type: 'prime.vector.deleted', payload: { id } }]);
  }

  // ---- replicated mode (src/replication/runtime.ts drives these) ----

  /** What the replication runtime needs of the engine, and nothing more. */
  private replicaHost(origin: string): ReplicaHost {
    return {
      origin,
      lastSeq: () => this.wal.lastSeq,
      onLocalBatch: (listener) => {
        this.localBatchListener = listener;
      },
      localEvents: (fromSeq) => this.localEventsFrom(origin, fromSeq),
      loggedAt: (seq) => {
        for (const event of this.log.events(seq, seq)) return event.seq === seq ? event : undefined;
        return undefined;
      },
      hasMerged: (from, hlc) => this.merge.seen(from, hlc),
      newestLocalHlc: () => this.merge.newestByOrigin().get(origin),
      applyReceived: (from, events) => this.applyReceived(from, events),
      mergeStats: () => this.merge.stats(),
      warn: this.warn,
    };
  }

  /** This origin's events from `fromSeq` on, in seq order (what the stream must hold). */
  private *localEventsFrom(origin: string, fromSeq: number): Generator<StoredEvent> {
    for (const event of this.log.events(Math.max(fromSeq, 1))) if (event.origin === origin) yield event;
  }

  /**
   * Logs and applies another origin's events (see WritePath.logReceived); resolves once durable,
   * holding none of them meanwhile (not an async function: its suspended frame would keep the
   * batch alive until the fsync).
   */
  private applyReceived(origin: string, events: ReadonlyArray<RawEvent & { hlc: string }>): Promise<{ applied: number; skipped: number }> {
    let logged;
    try {
      logged = this.writes.logReceived(origin, events);
    } catch (e) {
      return Promise.reject(e);
    }
    if (logged === undefined) return Promise.resolve({ applied: 0, skipped: events.length });
    const result = { applied: logged.events.length, skipped: logged.skipped };
    const vectorStored = logged.events.some((e) => e.type === 'prime.vector.stored');
    return this.writes.durable(logged.durable).then(() => {
      if (vectorStored) this.indexer.kick();
      return result;
    });
  }

  /** Starts publishing and consuming (openEngine calls it when `replication` is given). */
  async startReplication(): Promise<void> {
    const options = this.options.replication;
    if (options === undefined || this.replica === undefined || this.replication !== undefined) return;
    this.replication = await startReplication(this.replicaHost(this.replica.origin), options);
  }

  /** Replicated mode's state (what `stats().replication` holds), without the rest of stats; undefined when not replicating. */
  replicationStats(): ReplicationStats | undefined {
    return this.replication?.stats();
  }

  /** A hash of the logical content (nodes, properties, edges, vectors by id): equal on machines that converged. */
  contentDigest(): string {
    if (this.digestCache?.seq !== this.wal.lastSeq) {
      this.digestCache = { seq: this.wal.lastSeq, digest: contentDigest({ nodes: this.nodes, adjacency: this.adjacency, vectors: this.vectors }) };
    }
    return this.digestCache.digest;
  }

  // ---- words: text queries, the memory index ----

  private wordsReads(): ConstructorParameters<typeof Words>[0] {
    return { recall: (o) => this.recall(o), similar: (q, o) => this.similar(q, o), lastSeq: () => this.wal.lastSeq };
  }

  /** The configured embedder, if any. */
  get embedder(): Embedder | undefined {
    return this.words.embedder;
  }

  recallText(options: RecallOptions): Promise<WordsAnswer<RecallHit>> {
    return this.words.recall(options);
  }

  similarText(query: TextSimilarQuery, options: { topK?: number; type?: string } = {}): Promise<WordsAnswer<SimilarHit>> {
    const given = (['id', 'vector', 'text'] as const).filter((k) => query[k] !== undefined);
    if (given.length !== 1) throw mnemoError('VALIDATION_FAILED', { field: 'vector', reason: "give exactly one of 'vector', 'id' or 'text'" });
    return this.words.similar(query, options);
  }

  memoryIndex(options: { maxTokens?: number } = {}): MemoryIndex {
    return renderMemoryIndex(this.overview(), tokensOption(options.maxTokens, indexTokensDefault));
  }

  async promptContext(query: string, options: { maxTokens?: number; topK?: number } = {}): Promise<PromptContext> {
    const maxTokens = tokensOption(options.maxTokens, 2 * indexTokensDefault);
    if (typeof query !== 'string' || query.trim() === '') throw mnemoError('VALIDATION_FAILED', { field: 'query', reason: 'expected a non-empty string' });
    const answer = await this.recallText({ text: query, ...(options.topK === undefined ? {} : { topK: options.topK }) });
    return renderPromptContext(this.overview(), query, answer.results, answer.degraded, maxTokens);
  }

  private overview(): MemoryOverview {
    if (this.overviewAt?.seq !== this.wal.lastSeq) {
      this.overviewAt = overviewOf(this.wal.lastSeq, this.nodes, this.domains, this.crossDomains, this.adjacency.count);
    }
    return this.overviewAt;
  }

  // ---- state, checkpoints, compaction ----

  /** Each fdatasync of the log's duration in ns, for a caller that reads and resets it by windows (the HTTP server's stats). */
  get walFsyncDurations(): RecordableHistogram {
    return this.wal.fsyncDurations;
  }

  stats(): EngineStats {
    const stats: EngineStats = {
      totalNodes: this.nodes.count,
      totalEdges: this.adjacency.count,
      totalVectors: this.vectors.count,
      nodesByType: this.nodes.countsByType(),
      edgesByRelation: this.adjacency.countsByRelation(),
      eventCount: this.wal.lastSeq,
      lastSeq: this.wal.lastSeq,
      vectorsPending: this.vectors.pendingCount,
      deletedNodes: this.tallies.deletedNodes,
      deletedEdges: this.tallies.deletedEdges,
      vectorsIndexedPerSecond: this.indexer.ratePerSecond,
      wal: this.wal.stats(),
      checkpoint: this.background.stats(),
      compaction: this.compactor.stats(),
      writes: { accepting: !this.writes.failed && !this.closed, reason: this.writes.failureReason },
      words: this.words.stats(),
    };
    // Replicated mode only, and computed when read (an enumerable getter: JSON and the HTTP stats
    // route read it, a caller after event counts does not): the digest sorts every id, about a
    // second at 1M nodes.
    if (this.replication !== undefined) {
      const digest = (): string => this.contentDigest();
      Object.defineProperty(stats, 'contentDigest', { get: digest, enumerable: true });
      stats['replication'] = this.replication.stats() satisfies ReplicationStats;
    }
    return stats;
  }

  health(): { status: 'ok' | 'degraded'; reason?: string } {
    const reason = this.writes.failureReason ?? this.replication?.refused() ?? null;
    return reason === null ? { status: 'ok' } : { status: 'degraded', reason };
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
    this.writes.assertWritable();
    return this.background.checkpoint();
  }

  /**
   * Seals the active WAL segment and compacts every sealed one to Parquet: afterwards every event
   * is in Parquet (the new active segment is empty until the next append).
   */
  async compact(): Promise<CompactionStats> {
    this.writes.assertWritable();
    await this.wal.rotate();
    await this.compactor.compactAll();
    return this.compactor.stats();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.replication?.stop();
    this.closed = true;
    this.federation?.close();
    this.indexer.stop();
    await this.compactor.close();
    await this.background.stop();
    await this.wal.close();
    await this.words.embedder?.close?.();
  }
}

function tokensOption(value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < indexTokensMin || value > indexTokensMax) {
    throw mnemoError('VALIDATION_FAILED', { field: 'max_tokens', reason: `expected an integer from ${indexTokensMin} to ${indexTokensMax}, got ${String(value)}` });
  }
  return value;
}

function reportRecovery(wal: Wal, warn: (message: string) => void): void {
  const { tornTail, repaired } = wal.recovery;
  if (tornTail) warn(`cut a torn tail of ${tornTail.bytesCut} bytes at byte ${tornTail.offset} of ${tornTail.file} (an append that never completed)`);
  for (const r of repaired ?? []) {
    warn(`repair moved ${r.file} aside to ${r.movedTo}: ${r.reason}; events from seq ${r.lostFromSeq ?? '?'} on were lost`);
  }
}

export async function openEngine(options: EngineOptions): Promise<Engine> {
  const engine = await Engine.open(options);
  try {
    await engine.startReplication();
  } catch (e) {
    await engine.close();
    throw e;
  }
  return engine;
}
