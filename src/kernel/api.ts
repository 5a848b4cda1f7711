// The public embedded API's types (camelCase). The HTTP server and MCP server use exactly this.

import type { Properties, RawEvent, StoredEvent } from './events.js';

/** Turns texts into vectors: an OpenAI-compatible endpoint, a local ONNX model, or your own. */
export interface Embedder {
  /** Names the model (for a remote one, with where it runs). Remembered by the data dir. */
  readonly model: string;
  /** Vector dimension; known after `warm()` (a remote endpoint tells it by its first answer). */
  readonly dim: number;
  /** One vector per text, in order. Throws EMBEDDER_UNAVAILABLE when the embedder cannot answer. */
  embed(texts: readonly string[]): Promise<Float32Array[]>;
  /** Loads the model (or reaches the endpoint) and learns `dim`: a cold first call can take seconds, so it is paid before serving. */
  warm(): Promise<void>;
  /** Human-readable, for errors and logs; never holds a secret. */
  describe(): string;
  close?(): Promise<void>;
}

/** What `openEngine({ embed })` accepts: an Embedder, or a bare function (named `custom`, its dimension learned at warm-up). */
export type EmbedOption = Embedder | ((texts: string[]) => Promise<Array<Float32Array | number[]>>);

/** An answer to a text (or vector) query: the hits, whether a part was missing, and where the time went. */
export interface WordsAnswer<T> {
  results: T[];
  /** true when the embedder failed and the answer is BM25's alone. */
  degraded: boolean;
  /** Milliseconds spent in the embedder (0 on a query-embedding cache hit or without text). */
  embedMs: number;
  /** true when the whole answer came from the answer cache. */
  cached: boolean;
}

/** similar's query: exactly one of a stored vector's id, a vector, or a text. */
export interface SimilarQuery {
  id?: string;
  vector?: number[] | Float32Array;
  text?: string;
}

/** prime_index: markdown, its estimated tokens, and whether parts were left out to fit. */
export interface MemoryIndex {
  markdown: string;
  tokens: number;
  maxTokens: number;
  truncated: boolean;
}

/** prime_context: the index and recall hits in one prompt-ready markdown. */
export interface PromptContext {
  markdown: string;
  tokens: number;
  maxTokens: number;
  hits: RecallHit[];
  degraded: boolean;
}

export type Durability = 'fsync' | 'interval' | 'none';
export type Direction = 'out' | 'in' | 'both';
/** A point in history: a seq, or an ISO-8601 time. */
export type AsOf = number | string;

export interface EngineOptions {
  dataDir: string;
  /** Default 'fsync': an append resolves only after the fsync that covers it. */
  durability?: Durability;
  /** Default 100 ms; only for durability 'interval'. */
  fsyncIntervalMs?: number;
  vector?: { dim?: number; space?: 'cosine' | 'l2' | 'ip' };
  /**
   * Turns texts into vectors for `embed({ id, text })` and text queries (an Embedder from
   * `embedderFromSpec`, or a bare function). Warmed at open; a failed warm-up fails the open.
   * Without one, such an embed stores the text only (searchable by BM25).
   */
  embed?: EmbedOption;
  /** Move a damaged WAL segment aside instead of refusing to open. */
  repair?: boolean;
  /** Receives recovery notices (torn tail cut, checkpoint fallback, repair). Default: console.warn. */
  onWarning?: (message: string) => void;
}

export interface NodeRecord {
  id: string;
  type: string;
  domain: string;
  properties: Properties;
  createdAt: number;
  updatedAt: number;
  /** seq of the last event that changed this node. */
  version: number;
}

export interface EdgeRecord {
  id: string;
  source: string;
  target: string;
  relation: string;
  weight: number;
  properties: Properties;
}

export interface Page<T> {
  nodes: T[];
  total: number;
  returned: number;
  offset: number;
  nextOffset?: number;
}

export type NeighborNode = NodeRecord & { depth?: number };

export interface NeighborsOptions {
  relation?: string;
  direction?: Direction;
  depth?: number;
  limit?: number;
  offset?: number;
  asOf?: AsOf;
}

export interface SimilarHit {
  id: string;
  score: number;
  text?: string;
}

export interface RecallHit {
  id: string;
  node: NodeRecord | null;
  score: number;
  depth: number;
  components: { similarity: number; proximity: number; recency: number };
  /** Which retrievers found it: 'lexical' (BM25), 'semantic' (vectors), 'graph' (reached by expansion). */
  retrieval: Array<'lexical' | 'semantic' | 'graph'>;
}

export interface RecallOptions {
  vector?: number[] | Float32Array;
  text?: string;
  type?: string;
  depth?: number;
  topK?: number;
}

export interface Subgraph {
  nodes: NodeRecord[];
  edges: EdgeRecord[];
}

export interface CrossDomainPage {
  edges: Array<{ id: string; source: string; target: string; relation: string }>;
  total: number;
  returned: number;
  offset: number;
  nextOffset?: number;
}

export interface EngineStats {
  totalNodes: number;
  totalEdges: number;
  totalVectors: number;
  nodesByType: Record<string, number>;
  edgesByRelation: Record<string, number>;
  eventCount: number;
  lastSeq: number;
  vectorsPending: number;
  [more: string]: unknown;
}

export interface AppendResult {
  firstSeq: number;
  lastSeq: number;
}

export type { Properties, RawEvent, StoredEvent };

export interface AddNodeInput { type: string; properties?: Properties; id?: string }
export interface AddEdgeInput { source: string; target: string; relation: string; weight?: number; properties?: Properties; id?: string }
export interface EmbedInput { id: string; vector?: number[] | Float32Array; text?: string; metadata?: Properties }

/** Everything an embedding user (and the HTTP and MCP servers) can call. Reads are synchronous. */
export interface MnemoEngine {
  addNode(input: AddNodeInput): Promise<{ nodeId: string }>;
  updateNode(id: string, properties: Properties): Promise<void>;
  deleteNode(id: string): Promise<void>;
  addEdge(input: AddEdgeInput): Promise<{ edgeId: string }>;
  deleteEdge(id: string): Promise<void>;
  embed(input: EmbedInput): Promise<void>;
  deleteVector(id: string): Promise<void>;
  append(events: unknown): Promise<AppendResult>;

  getNode(id: string, options?: { asOf?: AsOf }): NodeRecord | null;
  getEdge(id: string): EdgeRecord | null;
  neighbors(id: string, options?: NeighborsOptions): Page<NeighborNode>;
  subgraph(id: string, options?: { depth?: number }): Subgraph;
  shortestPath(from: string, to: string, options?: { relation?: string; direction?: Direction }): NodeRecord[] | null;
  search(options: { type: string; limit?: number; offset?: number }): Page<NodeRecord>;
  crossDomain(domainA: string, domainB: string, options?: { limit?: number; offset?: number }): CrossDomainPage;
  similar(query: { id: string } | { vector: number[] | Float32Array }, options?: { topK?: number; type?: string }): SimilarHit[];
  searchText(query: string, options?: { topK?: number; type?: string }): TextHit[];
  recall(options: RecallOptions): RecallHit[];
  /** recall that embeds `text` when an embedder is configured (fused with BM25), cached by arguments and last seq; BM25 alone with `degraded` when the embedder fails. */
  recallText(options: RecallOptions): Promise<WordsAnswer<RecallHit>>;
  /** similar by id, vector, or text (text needs an embedder). */
  similarText(query: SimilarQuery, options?: { topK?: number; type?: string }): Promise<WordsAnswer<SimilarHit>>;
  /** A compressed markdown index of the memory (domains, types, example names, cross-domain links) within `maxTokens`. */
  memoryIndex(options?: { maxTokens?: number }): MemoryIndex;
  /** The index plus recall hits for `query`, formatted for a prompt, within `maxTokens`. */
  promptContext(query: string, options?: { maxTokens?: number; topK?: number }): Promise<PromptContext>;
  history(entityId: string): StoredEvent[];
  diff(from: AsOf, to: AsOf): DiffResult;
  stats(): EngineStats;

  whenIndexed(): Promise<void>;
  checkpoint(): Promise<CheckpointResult>;
  compact(): Promise<CompactionStats>;
  close(): Promise<void>;
}

export interface TextHit {
  id: string;
  score: number;
}

/** What changed between two points of history. */
export interface DiffResult {
  from: number;
  to: number;
  nodes: { added: string[]; updated: string[]; deleted: string[] };
  edges: { added: string[]; deleted: string[] };
}

/** A checkpoint written (or already there) at `seq`. */
export interface CheckpointResult {
  seq: number;
  dir: string;
  bytes: number;
  ms: number;
}

/** Parquet compaction's state. */
export interface CompactionStats {
  parquetFiles: number;
  parquetRows: number;
  parquetBytes: number;
  running: boolean;
  runs: number;
  segmentsCompacted: number;
  lastRunMs: number | null;
  lastError: string | null;
}
