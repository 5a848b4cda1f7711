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
  vector?: { dim?: number; space?: 'cosine' | 'l2' | 'ip' };
  /** Turns texts into vectors for `embed({ id, text })`. Without one, such an embed stores the text only (searchable by BM25). */
  embed?: (texts: string[]) => Promise<Array<Float32Array | number[]>>;
  /** Move a damaged WAL segment aside instead of refusing to open. */
  repair?: boolean;
  /** Receives recovery notices (torn tail cut, checkpoint fallback, repair). Default: console.warn. */
  onWarning?: (message: string) => void;
  /** Shares this memory with other machines through NATS JetStream (see docs/replication.md). */
  replication?: ReplicationOptions;
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
