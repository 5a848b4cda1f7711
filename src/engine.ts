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

import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';

import { openWal, type Wal } from '../wal/wal.js';
import { ProjectionRegistry } from '../projections/registry.js';
import { NodeState } from '../projections/node-state.js';
import { Adjacency } from '../projections/adjacency.js';
import { DomainIndex } from '../projections/domain-index.js';
import { CrossDomainIndex } from '../projections/cross-domain.js';
import { VectorIndex } from '../projections/vector-index.js';
import { TextIndex } from '../projections/text-index.js';
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
import { mnemoError } from './errors.js';
import { prepareBatch, type Properties, type RawEvent, type StateView, type StoredEvent } from './events.js';
import { batchBytesMax, eventBytesMax } from './limits.js';
import { BackgroundIndexer } from './query/background-indexer.js';
import { GraphQueries } from './query/graph.js';
import { recall } from './query/recall.js';
import { pageOptions, topKOption, vectorOption } from './query/options.js';

export class Engine implements MnemoEngine {
  readonly dataDir: string;
  private readonly wal: Wal;
  private readonly registry = new ProjectionRegistry();
  private readonly nodes = new NodeState();
  private readonly adjacency = new Adjacency();
  private readonly domains = new DomainIndex();
  private readonly crossDomains: CrossDomainIndex;
  private readonly vectors: VectorIndex;
  private readonly texts = new TextIndex();
  private readonly graph: GraphQueries;
  private readonly indexer: BackgroundIndexer;
  private readonly view: StateView;
  private closed = false;
  /** Set when a WAL write or fsync failed: the projections may hold events the log does not. */
  private failure: Error | null = null;

  private constructor(dataDir: string, wal: Wal, options: EngineOptions) {
    this.dataDir = dataDir;
    this.wal = wal;
    this.crossDomains = new CrossDomainIndex((nodeId) => this.adjacency.edgesOf(nodeId));
    this.vectors = new VectorIndex({ dim: options.vector?.dim, space: options.vector?.space ?? 'cosine' });
    // Registration order is apply order: cross-domain reads adjacency, so adjacency comes first.
    for (const p of [this.nodes, this.adjacency, this.domains, this.crossDomains, this.vectors, this.texts]) this.registry.register(p);
    this.graph = new GraphQueries(this.nodes, this.adjacency);
    this.indexer = new BackgroundIndexer(this.vectors);
    this.view = {
      hasNode: (id) => this.nodes.has(id),
      nodeType: (id) => this.nodes.get(id)?.type,
      hasEdge: (id) => this.adjacency.hasEdge(id),
      edgeIdsOf: (id) => this.adjacency.edgeIdsOf(id),
      hasVector: (id) => this.vectors.has(id),
      vectorDim: () => this.vectors.dim,
    };
  }

  static async open(options: EngineOptions): Promise<Engine> {
    const dataDir = options.dataDir;
    await mkdir(dataDir, { recursive: true });
    const wal = await openWal({
      dir: join(dataDir, 'wal'),
      durability: options.durability ?? 'fsync',
      fsyncIntervalMs: options.fsyncIntervalMs,
      repair: options.repair,
    });
    const warn = options.onWarning ?? ((message: string) => console.warn(`mnemo: ${message}`));
    reportRecovery(wal, warn);
    const engine = new Engine(dataDir, wal, options);
    try {
      engine.replay();
    } catch (e) {
      await wal.close();
      throw e;
    }
    return engine;
  }

  private replay(): void {
    for (const { event } of this.wal.replay(1)) this.registry.apply(event as StoredEvent);
    this.indexer.kick();
  }

  // ---- writes ----

  async append(input: unknown): Promise<AppendResult> {
    this.assertWritable();
    return this.appendPrepared(prepareBatch(input, this.view));
  }

  /** Logs and applies a batch that `prepareBatch` produced just now (no await in between). */
  private async appendPrepared(events: RawEvent[]): Promise<AppendResult> {
    const firstSeq = this.wal.lastSeq + 1;
    const ts = Date.now();
    const stored = events.map((event, i) => envelope(event, firstSeq + i, ts));
    const payload = this.encodeChecked(stored);
    let durable: Promise<void>;
    try {
      durable = this.wal.append(firstSeq, stored.length, payload);
    } catch (e) {
      throw this.fail(e);
    }
    for (const event of stored) this.registry.apply(event);
    if (stored.some((e) => e.type === 'prime.vector.stored')) this.indexer.kick();
    try {
      await durable;
    } catch (e) {
      throw this.fail(e);
    }
    return { firstSeq, lastSeq: firstSeq + stored.length - 1 };
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

  async embed(input: EmbedInput): Promise<void> {
    await this.append([{ type: 'prime.vector.stored', payload: { ...input } }]);
  }

  async deleteVector(id: string): Promise<void> {
    await this.append([{ type: 'prime.vector.deleted', payload: { id } }]);
  }

  /** Appends one raw event and returns the logged form (with the id the engine generated, if any). */
  private async appendOne(event: unknown): Promise<[RawEvent]> {
    this.assertWritable();
    const prepared = prepareBatch([event], this.view);
    await this.appendPrepared(prepared);
    return prepared as [RawEvent];
  }

  private encodeChecked(stored: StoredEvent[]): Uint8Array {
    const payload = this.wal.encode(stored);
    if (payload.byteLength > batchBytesMax) {
      throw mnemoError('BATCH_TOO_LARGE', { size: payload.byteLength, max: batchBytesMax, unit: 'bytes encoded' });
    }
    // Only when the whole batch is over the one-event limit can a single event be; encode each then.
    if (payload.byteLength > eventBytesMax) {
      stored.forEach((event, index) => {
        const bytes = this.wal.encode([event]).byteLength;
        if (bytes > eventBytesMax) throw mnemoError('EVENT_TOO_LARGE', { bytes, max: eventBytesMax, index });
      });
    }
    return payload;
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
    this.rejectAsOf(options?.asOf);
    return this.nodes.get(id) ?? null;
  }

  getEdge(id: string): EdgeRecord | null {
    return this.adjacency.getEdge(id) ?? null;
  }

  neighbors(id: string, options: NeighborsOptions = {}): Page<NeighborNode> {
    this.rejectAsOf(options.asOf);
    if (!this.nodes.has(id)) throw mnemoError('NODE_NOT_FOUND', { id });
    return this.graph.neighbors(id, options);
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
    const { limit, offset } = pageOptions(options);
    const { ids, total } = this.domains.page(options.type, offset, limit);
    return page(ids.map((id) => this.nodes.get(id)!), total, offset);
  }

  crossDomain(domainA: string, domainB: string, options: { limit?: number; offset?: number } = {}): CrossDomainPage {
    const { limit, offset } = pageOptions(options);
    const { edges, total } = this.crossDomains.page(domainA, domainB, offset, limit);
    const next = offset + edges.length;
    return { edges, total, returned: edges.length, offset, ...(next < total ? { nextOffset: next } : {}) };
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
        : (id: string) => id !== exclude && (type === undefined || this.nodes.get(id)?.type === type);
    return this.vectors.search(vector, topK, accept).map((hit) => {
      const text = this.vectors.get(hit.id)?.text;
      return text === undefined ? hit : { ...hit, text };
    });
  }

  /** BM25 over nodes' string properties and vectors' text; `type` keeps nodes of that type. */
  searchText(query: string, options: { topK?: number; type?: string } = {}): TextHit[] {
    if (typeof query !== 'string' || query.trim() === '') throw mnemoError('VALIDATION_FAILED', { field: 'query', reason: 'expected a non-empty string' });
    const type = options.type;
    const accept = type === undefined ? undefined : (id: string) => this.nodes.get(id)?.type === type;
    return this.texts.search(query, topKOption(options.topK, 10), accept);
  }

  recall(options: RecallOptions): RecallHit[] {
    return recall(options, { nodes: this.nodes, vectors: this.vectors, texts: this.texts, graph: this.graph, now: Date.now() });
  }

  history(entityId: string): StoredEvent[] {
    const touching = new Set([entityId]);
    const out: StoredEvent[] = [];
    for (const { event } of this.wal.replay(1)) {
      const e = event as StoredEvent;
      if (e.type === 'prime.edge.created' && (e.payload.source === entityId || e.payload.target === entityId)) touching.add(e.payload.id);
      if (touching.has(e.payload.id)) out.push(e);
    }
    return out;
  }

  diff(_from: AsOf, _to: AsOf): unknown {
    throw mnemoError('VALIDATION_FAILED', { field: 'diff', reason: 'time travel is not available yet' });
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
    };
  }

  /** Canonical hashes of every projection, for tests comparing live and replayed state. */
  digests(): Record<string, string> {
    return Object.fromEntries(this.registry.all().map((p) => [p.name, p.digest()]));
  }

  whenIndexed(): Promise<void> {
    return this.indexer.whenIdle();
  }

  async checkpoint(): Promise<unknown> {
    throw mnemoError('VALIDATION_FAILED', { field: 'checkpoint', reason: 'checkpoints are not available yet' });
  }

  async compact(): Promise<unknown> {
    throw mnemoError('VALIDATION_FAILED', { field: 'compact', reason: 'compaction is not available yet' });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.indexer.stop();
    await this.wal.close();
  }

  private rejectAsOf(asOf: AsOf | undefined): void {
    if (asOf !== undefined) throw mnemoError('VALIDATION_FAILED', { field: 'asOf', reason: 'time travel is not available yet' });
  }
}

function envelope(event: RawEvent, seq: number, ts: number): StoredEvent {
  // Vectors are logged as float32, the precision HNSW indexes them at: 4 bytes a dimension
  // instead of msgpack's 9 for a float64 (1.5 KiB instead of 3.5 KiB for 384 dimensions).
  if (event.type === 'prime.vector.stored' && !(event.payload.vector instanceof Float32Array)) {
    return { seq, ts, type: event.type, payload: { ...event.payload, vector: Float32Array.from(event.payload.vector) } };
  }
  return { seq, ts, type: event.type, payload: event.payload } as StoredEvent;
}

function page<T>(nodes: T[], total: number, offset: number): Page<T> {
  const next = offset + nodes.length;
  return { nodes, total, returned: nodes.length, offset, ...(next < total ? { nextOffset: next } : {}) };
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
