// The vector projection: every live vector by id, and an HNSW graph (hnswlib-node) over them.
//
// `apply` runs on the append path, so it only records the vector and queues it; the engine
// drains the queue into HNSW with `indexPending` from a background loop in short slices.
// Until a vector is in the graph, `search` finds it by an exact scan of the queue, so every
// stored vector is searchable the moment its event is applied.

import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import hnswlib from 'hnswlib-node';
import { Packr } from 'msgpackr';
import { assert, mnemoError } from '../src/kernel/errors.js';
import type { Properties, StoredEvent } from '../src/kernel/events.js';
import { vectorDimMax, vectorsMax } from '../src/kernel/limits.js';
import { canonicalJson } from './digest.js';
import type { Projection } from './projection.js';

// hnswlib-node is CommonJS; under ESM its classes hang off the default export.
const { HierarchicalNSW } = hnswlib;
type Hnsw = InstanceType<typeof HierarchicalNSW>;

export type VectorSpace = 'cosine' | 'l2' | 'ip';

export interface VectorIndexOptions {
  /** Fixed by the first stored vector when not given. */
  dim?: number;
  /** Default 'cosine', as the spec says. */
  space?: VectorSpace;
  /** HNSW links per node. */
  m?: number;
  /** Candidate list size while building the graph. */
  efConstruction?: number;
  /** Candidate list size while searching; raised to k for larger k. */
  efSearch?: number;
  /** Initial HNSW capacity in vectors; doubles when full. */
  initialCapacity?: number;
}

// Defaults chosen by bench/knn-defaults.ts over data shapes they were not tuned on (the engine
// bench's 384-d clusters, 32-d tight clusters, 64-d with 1,000 clusters, 16-d uniform noise; 50K
// vectors each): M=16 with efConstruction=200 and ef 64 holds recall@10 ≥ 0.99 on every one, where
// efConstruction=100 fell to 0.988 on the tight clusters (and, on a user's tighter set, to 0.93).
// It builds ~1.8x slower (in the background: appends never wait for it). High-dimensional uniform
// noise is the known hard case: 0.36 at ef 64, 0.95 only at ef 800 (callers can pass `ef`).
/** HNSW links per node (hnswlib's own default). */
export const vectorIndexMDefault = 16;
/** Build-time candidate list size. */
export const vectorIndexEfConstructionDefault = 200;
/** Query-time candidate list size (the measured recall@10 threshold plus headroom). */
export const vectorIndexEfSearchDefault = 64;
/** Vectors; initIndex allocates capacity x (4*dim + 8*M) bytes up front, so start small and double. */
export const vectorIndexInitialCapacityDefault = 1024;
/**
 * Wall-time budget of one `indexPending` call the engine makes from its background loop, in ms.
 * One insert at 100K x 384 takes about 0.5 ms (1.5 ms worst case measured), so a 5 ms slice keeps
 * every event-loop stall well under the 10 ms target while indexing ~10 vectors per slice.
 */
export const vectorIndexSliceMs = 5;

/** Extra HNSW hits asked for beyond k, so a few rejected or replaced ids rarely force a second search. */
const searchSlack = 10;
/** When `accept` rejects too many hits, the next try asks for this many times more. */
const searchWidenFactor = 8;
/** Widened tries before handing `accept` to hnswlib as a filter callback (slower per candidate, but exhaustive). */
const searchWidenTries = 2;
/** hnswlib-node converts labels with Uint32Value; our labels are dense slot numbers far below that. */
const labelMax = 0xffff_ffff;
/**
 * Format of `save()`; bump on any change and keep reading the old one. 1: one msgpack map, vectors
 * inside it as bytes. 2: a container (see encodeState) whose vectors and norms are raw, aligned
 * sections that load as views, not copies.
 */
const saveFormatVersion = 2;

interface VectorRecord {
  readonly id: string;
  readonly vector: Float32Array;
  readonly text: string | undefined;
  readonly metadata: Properties | undefined;
  /** Euclidean norm, precomputed for the exact scan of pending vectors. */
  readonly norm: number;
  /** HNSW label, or -1 while the vector waits in the queue. */
  label: number;
}

export interface VectorHit {
  id: string;
  score: number;
  /** The text stored with the vector, when it has one. */
  text?: string;
}

interface SavedState {
  version: number;
  dim: number | null;
  space: VectorSpace;
  m: number;
  efConstruction: number;
  nextLabel: number;
  /** Sorted ids; the other arrays are parallel to it. */
  ids: string[];
  labels: number[];
  texts: Array<string | null>;
  metadata: Array<Properties | null>;
  /** Every vector, concatenated in `ids` order. */
  vectors: Float32Array;
  /** Every vector's norm, in `ids` order (format 1 has none: computed at load). */
  norms: Float64Array | null;
  /** Pending ids in queue order. */
  pending: string[];
  freeLabels: number[];
  /**
   * hnswlib's own index file: its bytes, or the name of a file beside this state in the checkpoint
   * directory (see `save(dir)`), or null when nothing was ever indexed.
   */
  hnsw: Uint8Array | string | null;
}

/** The sidecar file a checkpoint holds hnswlib's index in. */
export const hnswSidecarFile = 'vector-index.hnsw';

// Maps and arrays only: records would tie the bytes to this process's record table.
const packr = new Packr({ useRecords: false, mapsAsObjects: true, moreTypes: false, copyBuffers: false });

export class VectorIndex implements Projection {
  readonly name = 'vector-index';

  private dimension: number | undefined;
  private readonly configuredDim: number | undefined;
  private readonly space: VectorSpace;
  private m: number;
  private efConstruction: number;
  private readonly efSearch: number;
  private readonly initialCapacity: number;

  private records = new Map<string, VectorRecord>();
  /**
   * Indexed records by HNSW label (labels are dense: freed ones are reused). An array, not a Map: a
   * k = 10 search maps its hits through it, and the Map's hashed lookups missed the cache (~1 µs
   * of a search under HTTP load).
   */
  private labelToRecord: Array<VectorRecord | undefined> = [];
  private indexedCount = 0;
  /** FIFO of records to index; entries whose record was replaced or deleted are skipped when reached. */
  private queue: VectorRecord[] = [];
  private queueHead = 0;
  /** The live pending records: the exact-scan set and `pendingCount`. */
  private pending = new Set<VectorRecord>();
  /**
   * Labels of deleted or replaced vectors. hnswlib's addPoint on a label that is marked deleted
   * unmarks it and overwrites its slot in place (the same updatePoint path as its own
   * replaceDeleted), so reusing labels keeps capacity at the peak live count under churn
   * instead of growing with every replace.
   */
  private freeLabels: number[] = [];
  private nextLabel = 0;
  private index: Hnsw | undefined;
  private capacity = 0;
  /** Reused for every query and insert: hnswlib-node takes number[] only. */
  private scratch: number[] = [];
  /** While `save` streams the graph to disk, graph writes wait here (hnswlib writes from a worker thread). */
  private saving = false;
  private deferredDeletes: number[] = [];

  constructor(options: VectorIndexOptions = {}) {
    this.space = options.space ?? 'cosine';
    this.m = options.m ?? vectorIndexMDefault;
    this.efConstruction = options.efConstruction ?? vectorIndexEfConstructionDefault;
    this.efSearch = options.efSearch ?? vectorIndexEfSearchDefault;
    this.initialCapacity = options.initialCapacity ?? vectorIndexInitialCapacityDefault;
    assert(['cosine', 'l2', 'ip'].includes(this.space), `unknown vector space '${this.space}'`);
    assert(this.initialCapacity >= 1 && Number.isInteger(this.initialCapacity), 'initialCapacity must be a positive integer');
    this.configuredDim = options.dim;
    if (options.dim !== undefined) this.fixDim(options.dim);
  }

  get dim(): number | undefined {
    return this.dimension;
  }

  get count(): number {
    return this.records.size;
  }

  get pendingCount(): number {
    return this.pending.size;
  }

  /** HNSW slots allocated (live + deleted-awaiting-reuse + free headroom); grows by doubling. */
  get graphCapacity(): number {
    return this.capacity;
  }

  has(id: string): boolean {
    return this.records.has(id);
  }

  /** The ids of every stored vector, in no particular order. */
  ids(): IterableIterator<string> {
    return this.records.keys();
  }

  /** The text stored with a vector, without building a record copy (similar() asks once per hit). */
  textOf(id: string): string | undefined {
    return this.records.get(id)?.text;
  }

  /**
   * Scores stored vectors exactly against `query`, on the same scale as `search` (recall scores
   * nodes reached through the graph this way): the returned function gives undefined for an id
   * with no vector. The query is copied and its norm taken once, not per id.
   */
  scorer(query: Float32Array | readonly number[]): (id: string) => number | undefined {
    const values = new Float64Array(query);
    const valuesNorm = norm(values);
    return (id) => {
      const record = this.records.get(id);
      return record === undefined ? undefined : this.exactScore(values, valuesNorm, record);
    };
  }

  /** The stored vector itself, not a copy: callers must not write to it. */
  get(id: string): { vector: Float32Array; text?: string; metadata?: Properties } | undefined {
    const record = this.records.get(id);
    if (record === undefined) return undefined;
    const result: { vector: Float32Array; text?: string; metadata?: Properties } = { vector: record.vector };
    if (record.text !== undefined) result.text = record.text;
    if (record.metadata !== undefined) result.metadata = record.metadata;
    return result;
  }

  apply(event: StoredEvent): void {
    switch (event.type) {
      case 'prime.vector.stored':
        // Text only (no embedder configured): the text index keeps the text; no vector remains under the id.
        if (event.payload.vector === undefined) this.remove(event.payload.id);
        else this.store(event.payload.id, event.payload.vector, event.payload.text, event.payload.metadata);
        return;
      case 'prime.vector.deleted':
      // A node's deletion cascades to its vector (SPEC, Events); deleting twice is harmless.
      case 'prime.node.deleted':
        this.remove(event.payload.id);
        return;
      default:
        return;
    }
  }

  private store(id: string, values: readonly number[] | Float32Array, text: string | undefined, metadata: Properties | undefined): void {
    if (this.dimension === undefined) this.fixDim(values.length);
    assert(values.length === this.dimension, `vector '${id}' has dim ${values.length}, the index has ${this.dimension}; validation must reject it`);
    this.remove(id);
    assert(this.records.size < vectorsMax, `more than ${vectorsMax} vectors; validation must reject the store`);
    // A Float32Array in an event is the event's own (validation copies the caller's; the log's
    // decoder gives each its own buffer), so it is kept as it is; a number[] is converted.
    const vector = values instanceof Float32Array ? values : new Float32Array(values);
    const record: VectorRecord = { id, vector, text, metadata, norm: norm(vector), label: -1 };
    this.records.set(id, record);
    this.pending.add(record);
    this.queue.push(record);
  }

  private remove(id: string): void {
    const record = this.records.get(id);
    if (record === undefined) return;
    this.records.delete(id);
    if (record.label < 0) {
      this.pending.delete(record);
      return;
    }
    this.labelToRecord[record.label] = undefined;
    this.indexedCount--;
    this.freeLabels.push(record.label);
    if (this.saving) this.deferredDeletes.push(record.label);
    else this.graph().markDelete(record.label);
  }

  private fixDim(dim: number): void {
    assert(Number.isInteger(dim) && dim >= 1 && dim <= vectorDimMax, `vector dim ${dim} outside 1..${vectorDimMax}`);
    this.dimension = dim;
    this.scratch = new Array<number>(dim).fill(0);
  }

  /** Inserts pending vectors into HNSW until `budgetMs` of wall time is spent; returns how many were indexed. */
  indexPending(budgetMs: number): number {
    if (this.pending.size === 0) this.queue.length = this.queueHead = 0; // only stale entries are left
    if (this.saving || this.pending.size === 0) return 0;
    const deadline = performance.now() + budgetMs;
    let indexed = 0;
    while (this.queueHead < this.queue.length) {
      const record = this.queue[this.queueHead++];
      assert(record !== undefined, 'queue head within bounds');
      if (!this.pending.has(record)) continue; // replaced or deleted while queued
      if (this.mustGrow()) {
        // A doubling costs ~10 ms at 64K -> 128K slots x 384-d (bench/vector-index.ts), so it
        // gets a slice of its own instead of stacking on top of a full slice of inserts.
        if (indexed > 0) {
          this.queueHead--;
          break;
        }
        this.grow();
      }
      this.insert(record);
      indexed += 1;
      if (performance.now() >= deadline) break;
    }
    this.compactQueue();
    return indexed;
  }

  private insert(record: VectorRecord): void {
    const graph = this.graph(); // first, so capacity is known before a label is taken
    const label = this.freeLabels.pop() ?? this.newLabel();
    graph.addPoint(this.fillScratch(record.vector), label);
    record.label = label;
    this.labelToRecord[label] = record;
    this.indexedCount++;
    this.pending.delete(record);
  }

  private mustGrow(): boolean {
    return this.index !== undefined && this.freeLabels.length === 0 && this.nextLabel >= this.capacity;
  }

  private newLabel(): number {
    assert(this.nextLabel < labelMax, 'HNSW labels exhausted');
    if (this.nextLabel >= this.capacity) this.grow();
    return this.nextLabel++;
  }

  /** Doubles capacity in place; resizeIndex reallocates the element arrays, it never re-inserts. */
  private grow(): void {
    const graph = this.graph();
    this.capacity = Math.min(Math.max(this.capacity * 2, this.initialCapacity), labelMax);
    graph.resizeIndex(this.capacity);
  }

  private graph(): Hnsw {
    if (this.index !== undefined) return this.index;
    assert(this.dimension !== undefined, 'the graph is built only once the dim is known');
    const index = new HierarchicalNSW(this.space, this.dimension);
    // Seed 100 (hnswlib's default) so the same inserts build the same graph run to run.
    index.initIndex(this.initialCapacity, this.m, this.efConstruction, 100, false);
    index.setEf(this.efSearch);
    this.index = index;
    this.capacity = this.initialCapacity;
    return index;
  }

  private compactQueue(): void {
    // Drop the consumed prefix once it is most of the array, so the queue's memory tracks pending work.
    if (this.queueHead > 1024 && this.queueHead * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.queueHead);
      this.queueHead = 0;
    }
  }

  /**
   * Copies a vector into the shared number[] hnswlib-node reads. Measured at 384-d
   * (bench/vector-index.ts): filling this buffer costs ~1 us per call, Array.from(Float32Array)
   * 17-43 us (it walks the iterator protocol): 4-8% of a 0.5 ms search at 100K, saved.
   */
  private fillScratch(values: Float32Array | readonly number[]): number[] {
    const scratch = this.scratch;
    for (let i = 0; i < scratch.length; i++) scratch[i] = values[i] as number;
    return scratch;
  }

  /**
   * k nearest live vectors to `query`: HNSW hits merged with an exact scan of the pending
   * (not yet indexed) vectors, so every stored vector is searchable at once. `accept` filters
   * ids. Scores: cosine 1 - cosine distance; ip the dot product; l2 1 / (1 + squared distance).
   * Sorted best first, ties by id.
   */
  search(query: Float32Array | readonly number[], k: number, accept?: (id: string) => boolean, ef?: number): VectorHit[] {
    assert(Number.isInteger(k) && k >= 0, `k must be a non-negative integer, got ${k}`);
    if (k === 0 || this.records.size === 0 || this.dimension === undefined) return [];
    if (query.length !== this.dimension) {
      throw mnemoError('VALIDATION_FAILED', { field: 'vector', reason: `has ${query.length} dimensions; the index has ${this.dimension}` });
    }
    const best = new TopK(k);
    if (ef !== undefined && this.index !== undefined && ef !== this.efSearch) {
      // A caller trading recall for speed (or back): this query only.
      this.index.setEf(ef);
      try {
        this.searchGraph(query, k, accept, best, ef);
      } finally {
        this.index.setEf(this.efSearch);
      }
    } else {
      this.searchGraph(query, k, accept, best, this.efSearch);
    }
    this.scanPending(query, accept, best);
    return best.sorted();
  }

  /**
   * HNSW part of a search. An `accept` that rejects hits (a type filter, the query's own id) is
   * first handled by asking for more hits (k + slack, then x8 twice), which keeps the filter in
   * JS; if that still finds fewer than k, the filter goes to hnswlib as a callback, which costs
   * a JS call per visited candidate but cannot miss a rare type.
   */
  private searchGraph(query: Float32Array | readonly number[], k: number, accept: ((id: string) => boolean) | undefined, best: TopK, ef: number): void {
    const indexedLive = this.records.size - this.pending.size;
    if (this.index === undefined || indexedLive <= 0) return;
    const graph = this.index;
    const point = this.fillScratch(query);
    // Without a filter, and with no markDelete held back by a save, every hit hnswlib returns is live:
    // asking k finds the same k (the candidate list is max(ef, asked) either way while k + slack ≤ ef)
    // and converts half the hits (1.5 µs of a 31 µs k=10 search at 10K × 64).
    const exact = accept === undefined && this.deferredDeletes.length === 0 && k + searchSlack <= ef;
    let asked = Math.min(exact ? k : k + searchSlack, indexedLive);
    let hits = this.accepted(graph.searchKnn(point, asked), accept);
    for (let tries = 0; hits.length < k && asked < indexedLive; tries++) {
      if (tries === searchWidenTries) {
        const filter = (label: number): boolean => {
          const record = this.labelToRecord[label];
          return record !== undefined && (accept === undefined || accept(record.id));
        };
        hits = this.accepted(graph.searchKnn(point, Math.min(k, indexedLive), filter), undefined);
        break;
      }
      asked = Math.min(asked * searchWidenFactor, indexedLive);
      hits = this.accepted(graph.searchKnn(point, asked), accept);
    }
    for (const hit of hits) best.offer(hit);
  }

  /** The HNSW hits `accept` lets through, scored. */
  private accepted(result: { distances: number[]; neighbors: number[] }, accept: ((id: string) => boolean) | undefined): VectorHit[] {
    const hits: VectorHit[] = [];
    for (let i = 0; i < result.neighbors.length; i++) {
      // Unmapped labels are vectors deleted while a save holds back their markDelete.
      const record = this.labelToRecord[result.neighbors[i] as number];
      if (record === undefined || (accept !== undefined && !accept(record.id))) continue;
      hits.push(hitOf(record, this.scoreOfDistance(result.distances[i] as number)));
    }
    return hits;
  }

  private scanPending(values: Float32Array | readonly number[], accept: ((id: string) => boolean) | undefined, best: TopK): void {
    if (this.pending.size === 0) return;
    // One Float64Array copy keeps the inner loops monomorphic whatever array type the caller gave.
    const query = new Float64Array(values);
    const queryNorm = norm(query);
    for (const record of this.pending) {
      if (accept !== undefined && !accept(record.id)) continue;
      best.offer(hitOf(record, this.exactScore(query, queryNorm, record)));
    }
  }

  private scoreOfDistance(distance: number): number {
    // hnswlib: cosine and ip distance = 1 - dot (of normalised vectors for cosine); l2 = squared distance.
    return this.space === 'l2' ? 1 / (1 + distance) : 1 - distance;
  }

  private exactScore(query: Float64Array, queryNorm: number, record: VectorRecord): number {
    const v = record.vector;
    if (this.space === 'l2') {
      let sum = 0;
      for (let i = 0; i < v.length; i++) {
        const d = (query[i] as number) - (v[i] as number);
        sum += d * d;
      }
      return 1 / (1 + sum);
    }
    const dot = dotProduct(query, v);
    if (this.space === 'ip') return dot;
    // A zero vector has no direction: similarity 0, as hnswlib gives it (it skips normalising zero).
    return queryNorm === 0 || record.norm === 0 ? 0 : dot / (queryNorm * record.norm);
  }

  /** sha256 of the logical state (ids, vectors, text, metadata), not of the graph, whose shape depends on when inserts ran. */
  digest(): string {
    const hash = createHash('sha256');
    hash.update(`vector-index/1 dim=${this.dimension ?? 0} space=${this.space} n=${this.records.size}\n`);
    for (const id of [...this.records.keys()].sort()) {
      const record = this.records.get(id);
      assert(record !== undefined, 'sorted id is live');
      hash.update(`${id.length}:${id}`);
      hash.update(new Uint8Array(record.vector.buffer, record.vector.byteOffset, record.vector.byteLength));
      hash.update(record.text === undefined ? '-' : `${record.text.length}:${record.text}`);
      hash.update(record.metadata === undefined ? '-' : canonicalJson(record.metadata));
      hash.update('\n');
    }
    return hash.digest('hex');
  }

  /**
   * The whole state, including hnswlib's own index, so `load` restores the graph without
   * re-inserting. Given a checkpoint directory `dir`, hnswlib writes its index straight into it as
   * `vector-index.hnsw` (a sidecar the checkpoint checksums like any file; load hands it back to
   * hnswlib by path), instead of copying 170 MB of index through the JS heap and a temp file on
   * both save and load: at 1M events (100K × 384) this load went from ~640 to ~500 ms. Without
   * `dir`, the bytes are embedded. The logical state
   * is snapshotted synchronously; while hnswlib writes its file from a worker thread, inserts pause
   * and markDeletes wait, so graph and maps agree.
   */
  async save(dir?: string): Promise<Uint8Array> {
    assert(!this.saving, 'one save at a time');
    const state = this.snapshot();
    if (this.index === undefined) return encodeState({ ...state, hnsw: null });
    const graph = this.index;
    this.saving = true;
    const scratch = dir ?? (await mkdtemp(join(tmpdir(), 'mnemo-vector-')));
    try {
      const file = join(scratch, hnswSidecarFile);
      await graph.writeIndex(file);
      return encodeState({ ...state, hnsw: dir === undefined ? await readFile(file) : hnswSidecarFile });
    } finally {
      this.saving = false;
      for (const label of this.deferredDeletes) graph.markDelete(label);
      this.deferredDeletes = [];
      if (dir === undefined) await rm(scratch, { recursive: true, force: true });
    }
  }

  private snapshot(): Omit<SavedState, 'hnsw'> {
    const ids = [...this.records.keys()].sort();
    const dim = this.dimension ?? 0;
    const vectors = new Float32Array(ids.length * dim);
    const norms = new Float64Array(ids.length);
    const labels: number[] = [];
    const texts: Array<string | null> = [];
    const metadata: Array<Properties | null> = [];
    ids.forEach((id, i) => {
      const record = this.records.get(id);
      assert(record !== undefined, 'sorted id is live');
      vectors.set(record.vector, i * dim);
      norms[i] = record.norm;
      labels.push(record.label);
      texts.push(record.text ?? null);
      metadata.push(record.metadata ?? null);
    });
    const pending: string[] = [];
    for (let i = this.queueHead; i < this.queue.length; i++) {
      const record = this.queue[i];
      if (record !== undefined && this.pending.has(record)) pending.push(record.id);
    }
    return {
      version: saveFormatVersion,
      dim: this.dimension ?? null,
      space: this.space,
      m: this.m,
      efConstruction: this.efConstruction,
      nextLabel: this.nextLabel,
      ids,
      labels,
      texts,
      metadata,
      vectors,
      norms,
      pending,
      freeLabels: [...this.freeLabels],
    };
  }

  /** Replaces the whole state with one saved by `save`; hnswlib reads its graph back as it was (from `dir` if saved there). */
  async load(bytes: Uint8Array, dir?: string): Promise<void> {
    const state = decodeState(bytes);
    if (state.space !== this.space) corrupt(`saved space '${state.space}' differs from the configured '${this.space}'`);
    if (state.dim !== null && this.configuredDim !== undefined && state.dim !== this.configuredDim) {
      // A configured dim that disagrees with the data is a configuration error, not corruption.
      throw mnemoError('VALIDATION_FAILED', { field: 'vector.dim', reason: `is ${this.dimension}, but the saved vectors have ${state.dim}` });
    }
    // hnswlib reads its file on a worker thread while the records are restored here (and, as the
    // engine starts every projection's load before awaiting any, while the others load).
    const reading = state.hnsw === null ? undefined : readGraph(state, dir);
    try {
      this.reset();
      const dim = state.dim ?? this.configuredDim;
      this.dimension = undefined;
      if (dim !== undefined) this.fixDim(dim);
      this.m = state.m;
      this.efConstruction = state.efConstruction;
      this.restoreRecords(state);
      this.nextLabel = state.nextLabel;
      this.freeLabels = [...state.freeLabels];
    } catch (e) {
      await reading?.catch(() => undefined);
      throw e;
    }
    const graph = await reading;
    if (graph !== undefined) {
      graph.setEf(this.efSearch);
      this.index = graph;
      this.capacity = graph.getMaxElements();
      if (graph.getCurrentCount() !== this.nextLabel) corrupt(`graph holds ${graph.getCurrentCount()} slots, the maps ${this.nextLabel}`);
    } else if (this.indexedCount > 0 || this.nextLabel > 0) {
      corrupt('indexed vectors without a graph');
    }
  }

  private reset(): void {
    this.records = new Map();
    this.labelToRecord = [];
    this.indexedCount = 0;
    this.queue = [];
    this.queueHead = 0;
    this.pending = new Set();
    this.freeLabels = [];
    this.nextLabel = 0;
    this.index = undefined;
    this.capacity = 0;
    this.deferredDeletes = [];
  }

  private restoreRecords(state: SavedState): void {
    const dim = state.dim ?? 0;
    const all = state.vectors;
    if (all.length !== state.ids.length * dim) corrupt('vector bytes do not match ids x dim');
    state.ids.forEach((id, i) => {
      const label = state.labels[i];
      if (label === undefined || !Number.isInteger(label) || label < -1 || label >= state.nextLabel) corrupt(`bad label for '${id}'`);
      // A view, not a copy: 100K slices cost 100K ArrayBuffers to allocate and track (~0.5 s of a
      // 1M-event restart). The one buffer lives while any restored vector does.
      const vector = all.subarray(i * dim, (i + 1) * dim);
      const text = state.texts[i] ?? undefined;
      const metadata = state.metadata[i] ?? undefined;
      const record: VectorRecord = { id, vector, text, metadata, norm: state.norms === null ? norm(vector) : state.norms[i]!, label };
      this.records.set(id, record);
      if (label >= 0) {
        this.labelToRecord[label] = record;
        this.indexedCount++;
      }
    });
    for (const id of state.pending) {
      const record = this.records.get(id);
      if (record === undefined || record.label !== -1) corrupt(`pending id '${id}' is not a pending vector`);
      this.pending.add(record);
      this.queue.push(record);
    }
    if (this.pending.size + this.indexedCount !== this.records.size) corrupt('some vectors are neither indexed nor pending');
  }
}

/** Keeps the k best hits seen, best first; ties broken by id so results do not depend on scan order. */
class TopK {
  private readonly hits: VectorHit[] = [];
  constructor(private readonly k: number) {}

  offer(hit: VectorHit): void {
    const hits = this.hits;
    if (hits.length === this.k) {
      const worst = hits[hits.length - 1] as VectorHit;
      if (!better(hit, worst)) return;
      hits.pop();
    }
    let at = hits.length;
    while (at > 0 && better(hit, hits[at - 1] as VectorHit)) at--;
    // HNSW hits come best first, so most go at the end: a push allocates nothing, a splice returns an array.
    if (at === hits.length) hits.push(hit);
    else hits.splice(at, 0, hit);
  }

  sorted(): VectorHit[] {
    return this.hits;
  }
}

function better(hit: VectorHit, than: VectorHit): boolean {
  return hit.score > than.score || (hit.score === than.score && hit.id < than.id);
}

/** A hit on `record`, with its text when it has one (similar answers carry it; no lookup by id after). */
function hitOf(record: VectorRecord, score: number): VectorHit {
  return record.text === undefined ? { id: record.id, score } : { id: record.id, score, text: record.text };
}

/** Four accumulators break the add dependency chain: 1.3-2x faster than one in a same-process A/B at 384-d (10K vectors: 10-14 ms vs 17-22 ms on the loaded 2-core bench box). */
function dotProduct(a: Float64Array, b: Float32Array): number {
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  const n = b.length;
  const end = n - (n % 4);
  let i = 0;
  for (; i < end; i += 4) {
    s0 += (a[i] as number) * (b[i] as number);
    s1 += (a[i + 1] as number) * (b[i + 1] as number);
    s2 += (a[i + 2] as number) * (b[i + 2] as number);
    s3 += (a[i + 3] as number) * (b[i + 3] as number);
  }
  for (; i < n; i++) s0 += (a[i] as number) * (b[i] as number);
  return s0 + s1 + s2 + s3;
}

function norm(values: Float32Array | Float64Array): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += (values[i] as number) * (values[i] as number);
  return Math.sqrt(sum);
}


function corrupt(reason: string): never {
  throw mnemoError('CHECKPOINT_CORRUPT', { file: 'vector-index', reason });
}

/** Format 2 starts with these bytes; format 1, a msgpack map, cannot (0x4d is not a map header). */
const containerMagic = Uint8Array.from([0x4d, 0x4e, 0x56, 0x32]); // "MNV2"
const containerHeaderBytes = 8;

const alignedTo8 = (n: number): number => Math.ceil(n / 8) * 8;

/**
 * Format 2: "MNV2", the u32 LE length of a msgpack map of everything but the vectors and norms, the
 * map, zero padding to a multiple of 8, the norms (float64) and the vectors (float32), in the
 * platform's byte order (little-endian everywhere Node runs; hnswlib's own file is no more
 * portable). Loading views those sections in place: at 100K × 384 that saved a 154 MB copy and
 * 100K norms, ~170 ms of a restart.
 */
function encodeState(state: SavedState): Uint8Array {
  const { vectors, norms, ...meta } = state;
  assert(norms !== null && norms.length * (meta.dim ?? 0) === vectors.length, 'a norm per vector');
  const head = packr.pack(meta);
  const normsAt = alignedTo8(containerHeaderBytes + head.length);
  const out = new Uint8Array(normsAt + norms.byteLength + vectors.byteLength);
  out.set(containerMagic, 0);
  new DataView(out.buffer).setUint32(4, head.length, true);
  out.set(head, containerHeaderBytes);
  out.set(new Uint8Array(norms.buffer, norms.byteOffset, norms.byteLength), normsAt);
  out.set(new Uint8Array(vectors.buffer, vectors.byteOffset, vectors.byteLength), normsAt + norms.byteLength);
  return out;
}

function decodeState(bytes: Uint8Array): SavedState {
  const container = bytes.length >= containerHeaderBytes && containerMagic.every((byte, i) => bytes[i] === byte);
  const headLength = container ? new DataView(bytes.buffer, bytes.byteOffset).getUint32(4, true) : 0;
  if (container && containerHeaderBytes + headLength > bytes.length) corrupt('header runs past the end');
  let state: unknown;
  try {
    state = packr.unpack(container ? bytes.subarray(containerHeaderBytes, containerHeaderBytes + headLength) : bytes);
  } catch (e) {
    corrupt(`cannot decode: ${(e as Error).message}`);
  }
  const s = state as Partial<Omit<SavedState, 'vectors'>> & { vectors?: unknown } | null;
  if (s === null || typeof s !== 'object' || s.version !== (container ? saveFormatVersion : 1)) corrupt(`unknown format version ${String(s?.version)}`);
  const arrays = [s.ids, s.labels, s.texts, s.metadata, s.pending, s.freeLabels];
  if (!arrays.every(Array.isArray)) corrupt('missing fields');
  const n = (s.ids as string[]).length;
  if ((s.labels as number[]).length !== n || (s.texts as unknown[]).length !== n || (s.metadata as unknown[]).length !== n) corrupt('field lengths differ');
  const floats = n * (s.dim ?? 0);
  if (!container) {
    // Format 1: msgpackr hands back the vector bytes at any offset; copy them into aligned memory.
    if (!(s.vectors instanceof Uint8Array) || s.vectors.byteLength !== floats * 4) corrupt('vector bytes do not match ids x dim');
    const vectors = new Float32Array(floats);
    new Uint8Array(vectors.buffer).set(s.vectors);
    return { ...(s as Omit<SavedState, 'vectors' | 'norms'>), vectors, norms: null };
  }
  const normsAt = alignedTo8(containerHeaderBytes + headLength);
  if (bytes.length !== normsAt + n * 8 + floats * 4) corrupt(`holds ${bytes.length} bytes, expected ${normsAt + n * 8 + floats * 4} for ${n} vectors`);
  // A file read whole starts its own buffer; a small one may sit in a shared pool at any offset.
  const aligned = bytes.byteOffset % 8 === 0 ? bytes : bytes.slice();
  const norms = new Float64Array(aligned.buffer, aligned.byteOffset + normsAt, n);
  const vectors = new Float32Array(aligned.buffer, aligned.byteOffset + normsAt + n * 8, floats);
  return { ...(s as Omit<SavedState, 'vectors' | 'norms'>), vectors, norms };
}

async function readGraph(state: SavedState, sidecarDir: string | undefined): Promise<Hnsw> {
  assert(state.hnsw !== null && state.dim !== null, 'a saved graph has a dim');
  if (typeof state.hnsw === 'string' && (sidecarDir === undefined || state.hnsw !== hnswSidecarFile)) corrupt(`the graph is in ${state.hnsw}, which is not beside it`);
  const dir = typeof state.hnsw === 'string' ? sidecarDir! : await mkdtemp(join(tmpdir(), 'mnemo-vector-'));
  try {
    const file = join(dir, hnswSidecarFile);
    if (typeof state.hnsw !== 'string') await writeFile(file, state.hnsw);
    const graph = new HierarchicalNSW(state.space, state.dim);
    await graph.readIndex(file, false);
    if (graph.getNumDimensions() !== state.dim) corrupt(`graph dim ${graph.getNumDimensions()} differs from ${state.dim}`);
    return graph;
  } catch (e) {
    if (e instanceof Error && e.name === 'MnemoError') throw e;
    return corrupt(`hnswlib cannot read the graph: ${(e as Error).message}`);
  } finally {
    if (typeof state.hnsw !== 'string') await rm(dir, { recursive: true, force: true });
  }
}
