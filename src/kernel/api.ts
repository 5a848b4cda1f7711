// The public embedded API's types (camelCase). The HTTP server and MCP server use exactly this.

import type { Properties, RawEvent, StoredEvent } from './events.js';

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
  /** Turns texts into vectors for `embed({ id, text })`. Without one, such an embed stores the text only (searchable by BM25). */
  embed?: (texts: string[]) => Promise<Array<Float32Array | number[]>>;
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
  /** The vector seeds' HNSW candidate list, as in `similar`. */
  ef?: number;
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
  subgraph(id: string, options?: { depth?: number }): Subgraph;
  shortestPath(from: string, to: string, options?: { relation?: string; direction?: Direction }): NodeRecord[] | null;
  search(options: SearchOptions): Page<NodeRecord>;
  getVector(id: string): StoredVector | null;
  crossDomain(domainA: string, domainB: string, options?: { limit?: number; offset?: number }): CrossDomainPage;
  /** `ef`: this query's HNSW candidate list (default 64, at least topK): higher finds more of the true nearest, slower. */
  similar(query: { id: string } | { vector: number[] | Float32Array }, options?: { topK?: number; type?: string; ef?: number }): SimilarHit[];
  searchText(query: string, options?: { topK?: number; type?: string }): TextHit[];
  recall(options: RecallOptions): RecallHit[];
  history(entityId: string): StoredEvent[];
  diff(from: AsOf, to: AsOf): DiffResult;
  stats(): EngineStats;
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
