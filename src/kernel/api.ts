// The public embedded API's types (camelCase). The HTTP server and MCP server use exactly this.

import type { RecordableHistogram } from 'node:perf_hooks';
import type { Properties, RawEvent, StoredEvent } from './events.js';
import type { JsonBytes } from './wire.js';

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

/** similarText's query: exactly one of a stored vector's id, a vector, or a text. */
export interface TextSimilarQuery {
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
  /**
   * Durability 'fsync' only. 'group' (default): appends that arrive while an fsync runs on the
   * thread pool share the next one. 'inline': each append's fsync runs before append returns, so
   * the returned promise is already settled. The HTTP server uses 'inline' because uWebSockets.js
   * closes a connection whose next pipelined request arrives while a response is pending; an
   * fdatasync here costs ~0.13 ms (p50), a small price beside losing queued requests.
   */
  commit?: 'group' | 'inline';
  vector?: { dim?: number; space?: 'cosine' | 'l2' | 'ip' };
  /**
   * Turns texts into vectors for `embed({ id, text })` and text queries (an Embedder from
   * `embedderFromSpec`, or a bare function). Warmed at open; a failed warm-up fails the open.
   * Without one, such an embed stores the text only (searchable by BM25).
   */
  embed?: EmbedOption;
  /**
   * Instead of refusing to open: move a damaged WAL segment (and every later one) aside, and read
   * every Parquet file whole, moving a damaged one aside and recording its seqs as lost (the CLI's
   * `--repair`; docs/operations.md#verify-and-repair).
   */
  repair?: boolean;
  /** Receives recovery notices (torn tail cut, checkpoint fallback, repair). Default: console.warn. */
  onWarning?: (message: string) => void;
  /** Shares this memory with other machines through NATS JetStream (see docs/replication.md). */
  replication?: ReplicationOptions;
  /** Other machines whose memory `recall`/`similar` may also ask (`peers` option); see docs/federation.md. */
  federation?: FederationOptions;
}

/** A named peer: another mnemo server whose `/peer/*` routes this one may ask. */
export interface PeerConfig {
  name: string;
  /** `http://host:port` or `https://host:port` (a path prefix is kept). */
  url: string;
}

export interface FederationOptions {
  peers: readonly PeerConfig[];
  /** This machine's name in merged answers (`origin` of local results). Default: the host name. */
  origin?: string;
  /** PEM of a private CA that signed the peers' certificates (for `https://` peers). */
  ca?: string | Uint8Array;
}

/** Which peers a federated query asks: every configured peer, or these names (an empty list: none, local only). */
export type PeerSelection = true | readonly string[];

/** Asking peers makes a read asynchronous and its answer a Federated one. */
export interface FederatedOptions {
  peers: PeerSelection;
  /** How long to wait for peers (and local work), ms. Default 250. */
  deadlineMs?: number;
}

/** How one peer did in a federated query. */
export interface PeerReport {
  name: string;
  status: 'ok' | 'timeout' | 'error' | 'refused';
  /** Time from asking to its answer (or to giving up). */
  ms: number;
  /** Results it returned (before merging). */
  returned: number;
  /** 'open': the peer failed repeatedly and was not asked this time; 'half-open': this was the probe. */
  circuit: 'closed' | 'open' | 'half-open';
  /** Why it was not 'ok'. */
  error?: string;
}

/** A merged answer: results ranked by reciprocal rank fusion over each machine's ranking, each marked with the machine it came from. */
export interface Federated<T> {
  results: Array<T & { origin: string; rrf: number }>;
  peers: PeerReport[];
  /** True when a peer did not answer in time or failed, or local work was cut short by the deadline: the results are what was gathered. */
  degraded: boolean;
}

export interface ReplicationOptions {
  /** NATS server URLs, e.g. `nats://h1:4222`; the client moves between them. */
  servers: string[];
  /** This machine's name: 1 to 64 of A-Z a-z 0-9 _ -; it names its subject and its events' origin. */
  origin: string;
  /** JetStream stream name; default 'mnemo'. */
  stream?: string;
  /** 'local' (default): an append resolves once durable locally; 'stream': once JetStream acknowledged it too. */
  ack?: 'local' | 'stream';
}

/** `stats().replication`. */
export interface ReplicationStats {
  origin: string;
  stream: string;
  connected: boolean;
  /** The last stream sequence this machine applied (or skipped as its own or already merged). */
  lastStreamSeqApplied: number;
  /** Local events logged but not yet acknowledged by the stream. */
  publishBacklog: number;
  /** Milliseconds between the newest applied remote event's writing and its application here. */
  lagMs: number;
  /** Received messages refused (did not decode, or failed validation), with the last one's reason. */
  rejected: number;
  lastRejection: string | null;
  /** Nodes that updates or edges named before their create arrived, and events dropped past the bound. */
  pendingNodes: number;
  pendingDropped: number;
  /** Times the stream lacked this origin's events and they were republished from the log. */
  republished: number;
  /** Why local writes and publishing are refused: the stream holds this origin's events that this data dir's log does not (docs/replication.md). */
  refused: string | null;
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
  /** Present when a deadline was given: true when the walk was cut short by it (the page holds what was reached). */
  degraded?: boolean;
}

export type NeighborNode = NodeRecord & { depth?: number };

export interface NeighborsOptions {
  relation?: string;
  direction?: Direction;
  depth?: number;
  limit?: number;
  offset?: number;
  asOf?: AsOf;
  /** Stop walking (depth > 1) after this many ms and answer what was reached, marked degraded. */
  deadlineMs?: number;
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
  /** The vector seeds' HNSW candidate list, as in `similar`. */
  ef?: number;
  vector?: number[] | Float32Array;
  text?: string;
  type?: string;
  depth?: number;
  topK?: number;
}

export interface SimilarOptions {
  topK?: number;
  type?: string;
  /** This query's HNSW candidate list (default 64, at least topK): higher finds more of the true nearest, slower. */
  ef?: number;
}

export type SimilarQuery = { id: string } | { vector: number[] | Float32Array };

/** The reads a peer may make, limited to nodes of some domains (what `/peer/*` answers from). */
export interface SharedReads {
  getNode(id: string, options?: { asOf?: AsOf }): NodeRecord | null;
  neighbors(id: string, options?: NeighborsOptions): Page<NeighborNode>;
  neighborsJson(id: string, options?: NeighborsOptions): Page<JsonBytes>;
  subgraph(id: string, options?: SubgraphOptions): Subgraph;
  search(options: { type: string; limit?: number; offset?: number }): Page<NodeRecord>;
  similar(query: SimilarQuery, options?: SimilarOptions): SimilarHit[];
  /** `deadline`: expansion stops once performance.now() passes `atMs`, and sets `cut`. */
  recall(options: RecallOptions, deadline?: { atMs: number; cut: boolean }): RecallHit[];
  stats(): EngineStats;
}

export interface Subgraph {
  nodes: NodeRecord[];
  edges: EdgeRecord[];
  /** Present when a deadline was given: true when the walk was cut short by it. */
  degraded?: boolean;
}

export interface SubgraphOptions {
  depth?: number;
  /** Stop walking after this many ms and answer what was reached, marked degraded. */
  deadlineMs?: number;
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
  /** Nodes and edges ever deleted (a node's cascade counts its edges). */
  deletedNodes: number;
  deletedEdges: number;
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
  /**
   * neighbors' page with each node as the JSON an HTTP answer holds for it (snake_case, UTF-8),
   * cached per node version: what the HTTP server answers from, without a record per row.
   */
  neighborsJson(id: string, options?: NeighborsOptions): Page<JsonBytes>;
  subgraph(id: string, options?: SubgraphOptions): Subgraph;
  shortestPath(from: string, to: string, options?: { relation?: string; direction?: Direction }): NodeRecord[] | null;
  search(options: SearchOptions): Page<NodeRecord>;
  getVector(id: string): StoredVector | null;
  crossDomain(domainA: string, domainB: string, options?: { limit?: number; offset?: number }): CrossDomainPage;
  similar(query: SimilarQuery, options: SimilarOptions & FederatedOptions): Promise<Federated<SimilarHit>>;
  similar(query: SimilarQuery, options?: SimilarOptions): SimilarHit[];
  similar(query: SimilarQuery, options?: SimilarOptions & Partial<FederatedOptions>): SimilarHit[] | Promise<Federated<SimilarHit>>;
  searchText(query: string, options?: { topK?: number; type?: string }): TextHit[];
  recall(options: RecallOptions & FederatedOptions): Promise<Federated<RecallHit>>;
  recall(options: RecallOptions): RecallHit[];
  recall(options: RecallOptions & Partial<FederatedOptions>): RecallHit[] | Promise<Federated<RecallHit>>;
  /** The reads limited to nodes of `domains` (every other node does not exist for them); undefined: everything. */
  shared(domains: readonly string[] | undefined): SharedReads;
  /** recall that embeds `text` when an embedder is configured (fused with BM25), cached by arguments and last seq; BM25 alone with `degraded` when the embedder fails. */
  /** The configured embedder, if any. */
  readonly embedder: Embedder | undefined;
  recallText(options: RecallOptions): Promise<WordsAnswer<RecallHit>>;
  /** similar by id, vector, or text (text needs an embedder). */
  similarText(query: TextSimilarQuery, options?: { topK?: number; type?: string }): Promise<WordsAnswer<SimilarHit>>;
  /** A compressed markdown index of the memory (domains, types, example names, cross-domain links) within `maxTokens`. */
  memoryIndex(options?: { maxTokens?: number }): MemoryIndex;
  /** The index plus recall hits for `query`, formatted for a prompt, within `maxTokens`. */
  promptContext(query: string, options?: { maxTokens?: number; topK?: number }): Promise<PromptContext>;
  history(entityId: string): StoredEvent[];
  diff(from: AsOf, to: AsOf): DiffResult;
  stats(): EngineStats;
  /** Each fdatasync of the log's duration in ns; its reader may reset it (the HTTP server's stats read does, one window per read). */
  readonly walFsyncDurations: RecordableHistogram;
  /** Cheap: 'degraded' while writes are refused (a full disk, a failed fsync), with the reason. */
  health(): { status: 'ok' | 'degraded'; reason?: string };

  whenIndexed(): Promise<void>;
  checkpoint(): Promise<CheckpointResult>;
  compact(): Promise<CompactionStats>;
  close(): Promise<void>;
}

/** Exactly one of `type` (a domain: properties.domain, else the type) or `nodeType`. */
export interface SearchOptions {
  type?: string;
  nodeType?: string;
  limit?: number;
  offset?: number;
}

export interface StoredVector {
  id: string;
  vector: Float32Array;
  text?: string;
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
