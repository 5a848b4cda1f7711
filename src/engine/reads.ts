// The engine's reads: synchronous, over the live projections, or over a historical state for
// `asOf` (src/engine/history.ts). The Engine class extends this with writes and lifecycle.

import type { Adjacency } from '../../projections/adjacency.js';
import type { CrossDomainIndex } from '../../projections/cross-domain.js';
import type { DomainIndex } from '../../projections/domain-index.js';
import type { NodeState } from '../../projections/node-state.js';
import type { Projections } from '../../projections/registry.js';
import type { Tallies } from '../../projections/tallies.js';
import type { TextIndex } from '../../projections/text-index.js';
import type { TypeIndex } from '../../projections/type-index.js';
import type { VectorIndex } from '../../projections/vector-index.js';
import { performance } from 'node:perf_hooks';
import type {
  AsOf,
  Federated,
  FederatedOptions,
  SharedReads,
  SimilarOptions,
  SimilarQuery,
  CrossDomainPage,
  DiffResult,
  Direction,
  EdgeRecord,
  NeighborNode,
  NeighborsOptions,
  NodeRecord,
  Page,
  RecallHit,
  RecallOptions,
  SearchOptions,
  SimilarHit,
  StoredVector,
  Subgraph,
  SubgraphOptions,
  TextHit,
} from '../kernel/api.js';
import { mnemoError } from '../kernel/errors.js';
import type { JsonBytes } from '../kernel/wire.js';
import type { StoredEvent } from '../kernel/events.js';
import { GraphQueries, pageFromSlice } from '../query/graph.js';
import { efOption, limitOption, offsetOption, topKOption, vectorOption } from '../query/options.js';
import { recall, type Deadline } from '../query/recall.js';
import { deadlineOption, type Federation, type MergeInput } from '../peers/federation.js';
import { fuseRankings } from '../peers/fusion.js';
import type { PeerClient } from '../peers/client.js';
import { hostname } from 'node:os';
import type { EventLog, HistoricalState, TimeTravel } from './history.js';
import { DomainSharedReads } from './shared-reads.js';

export class EngineReads {
  protected readonly nodes: NodeState;
  protected readonly adjacency: Adjacency;
  protected readonly domains: DomainIndex;
  protected readonly types: TypeIndex;
  protected readonly tallies: Tallies;
  protected readonly crossDomains: CrossDomainIndex;
  protected readonly vectors: VectorIndex;
  protected readonly texts: TextIndex;
  protected readonly graph: GraphQueries;
  /** Set by the engine when it was opened with peers. */
  protected federation: Federation | undefined;

  protected constructor(
    projections: Projections,
    protected readonly log: EventLog,
    protected readonly timeTravel: TimeTravel,
  ) {
    this.nodes = projections['node-state'];
    this.adjacency = projections.adjacency;
    this.domains = projections['domain-index'];
    this.types = projections['type-index'];
    this.tallies = projections.tallies;
    this.crossDomains = projections['cross-domain'];
    this.vectors = projections['vector-index'];
    this.texts = projections['text-index'];
    this.graph = new GraphQueries(this.nodes, this.adjacency);
  }

  getNode(id: string, options?: { asOf?: AsOf }): NodeRecord | null {
    const nodes = options?.asOf === undefined ? this.nodes : this.stateAsOf(options.asOf).nodes;
    return nodes.get(id) ?? null;
  }

  getEdge(id: string): EdgeRecord | null {
    return this.adjacency.getEdge(id) ?? null;
  }

  neighbors(id: string, options: NeighborsOptions = {}): Page<NeighborNode> {
    return this.graphAround(id, options.asOf).neighbors(id, options);
  }

  neighborsJson(id: string, options: NeighborsOptions = {}): Page<JsonBytes> {
    // The graph's own lookup of the node says whether it exists: one lookup, not two, on the hot path.
    return (options.asOf === undefined ? this.graph : this.graphAround(id, options.asOf)).neighborsJson(id, options);
  }

  /** The graph (now, or as of `asOf`) holding node `id`; NODE_NOT_FOUND when it holds none. */
  private graphAround(id: string, asOf: AsOf | undefined): GraphQueries {
    const state = asOf === undefined ? undefined : this.stateAsOf(asOf);
    if (!(state?.nodes ?? this.nodes).has(id)) throw mnemoError('NODE_NOT_FOUND', { id });
    return state?.graph ?? this.graph;
  }

  /** The node state and adjacency after the event `asOf` names (a seq, or an ISO time: the last seq at or before it). */
  private stateAsOf(asOf: AsOf): HistoricalState {
    return this.timeTravel.stateAt(this.timeTravel.resolve(asOf));
  }

  subgraph(id: string, options: SubgraphOptions = {}): Subgraph {
    if (!this.nodes.has(id)) throw mnemoError('NODE_NOT_FOUND', { id });
    return this.graph.subgraph(id, options.depth, options.deadlineMs);
  }

  shortestPath(from: string, to: string, options: { relation?: string; direction?: Direction } = {}): NodeRecord[] | null {
    for (const id of [from, to]) if (!this.nodes.has(id)) throw mnemoError('NODE_NOT_FOUND', { id });
    return this.graph.shortestPath(from, to, options);
  }

  /** A page of a domain (`type`) or of a node type (`nodeType`), in insertion order. */
  search(options: SearchOptions): Page<NodeRecord> {
    const offset = offsetOption(options.offset);
    const byType = options.nodeType !== undefined;
    if (byType === (options.type !== undefined)) {
      throw mnemoError('VALIDATION_FAILED', { field: 'type', reason: "give exactly one of 'type' (a domain) or 'nodeType'" });
    }
    const index = byType ? this.types : this.domains;
    const { ids, total } = index.page((byType ? options.nodeType : options.type)!, offset, limitOption(options.limit));
    return pageFromSlice(ids.map((id) => this.nodes.get(id)!), total, offset);
  }

  crossDomain(domainA: string, domainB: string, options: { limit?: number; offset?: number } = {}): CrossDomainPage {
    const offset = offsetOption(options.offset);
    const { edges, total } = this.crossDomains.page(domainA, domainB, offset, limitOption(options.limit));
    const { nodes, ...paging } = pageFromSlice(edges, total, offset);
    return { edges: nodes, ...paging };
  }

  /** The vector stored under an id (and its text), or null. */
  getVector(id: string): StoredVector | null {
    const stored = this.vectors.get(id);
    if (stored === undefined || stored === null) return null;
    const text = this.vectors.textOf(id);
    return text === undefined ? { id, vector: stored.vector } : { id, vector: stored.vector, text };
  }

  similar(query: SimilarQuery, options: SimilarOptions & FederatedOptions): Promise<Federated<SimilarHit>>;
  similar(query: SimilarQuery, options?: SimilarOptions): SimilarHit[];
  similar(query: SimilarQuery, options?: SimilarOptions & Partial<FederatedOptions>): SimilarHit[] | Promise<Federated<SimilarHit>>;
  similar(query: SimilarQuery, options: SimilarOptions & Partial<FederatedOptions> = {}): SimilarHit[] | Promise<Federated<SimilarHit>> {
    if (options.peers !== undefined) return this.federatedSimilar(query, options as SimilarOptions & FederatedOptions);
    return this.similarHere(query, options);
  }

  private similarHere(query: SimilarQuery, options: SimilarOptions): SimilarHit[] {
    const topK = topKOption(options.topK, 5);
    const ef = efOption(options.ef);
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
    const hits: SimilarHit[] = this.vectors.search(vector, topK, accept, ef);
    return hits;
  }

  /** BM25 over nodes' string properties and vectors' text; `type` keeps nodes of that type. */
  searchText(query: string, options: { topK?: number; type?: string } = {}): TextHit[] {
    if (typeof query !== 'string' || query.trim() === '') throw mnemoError('VALIDATION_FAILED', { field: 'query', reason: 'expected a non-empty string' });
    const type = options.type;
    const accept = type === undefined ? undefined : (id: string) => this.nodes.typeOfNode(id) === type;
    return this.texts.search(query, topKOption(options.topK, 10), accept);
  }

  recall(options: RecallOptions & FederatedOptions): Promise<Federated<RecallHit>>;
  recall(options: RecallOptions): RecallHit[];
  recall(options: RecallOptions & Partial<FederatedOptions>): RecallHit[] | Promise<Federated<RecallHit>>;
  recall(options: RecallOptions & Partial<FederatedOptions>): RecallHit[] | Promise<Federated<RecallHit>> {
    if (options.peers !== undefined) return this.federatedRecall(options as RecallOptions & FederatedOptions);
    return this.recallHere(options);
  }

  private recallHere(options: RecallOptions, deadline?: Deadline): RecallHit[] {
    return recall(options, { nodes: this.nodes, vectors: this.vectors, texts: this.texts, graph: this.graph, now: Date.now(), ...(deadline === undefined ? {} : { deadline }) });
  }

  /** The reads limited to nodes of `domains`; undefined: this engine's own reads, unlimited. */
  shared(domains: readonly string[] | undefined): SharedReads {
    // The Engine subclass adds stats(), which completes SharedReads; reads alone are never handed out.
    if (domains === undefined) return this as unknown as SharedReads;
    return new DomainSharedReads(
      { nodes: this.nodes, adjacency: this.adjacency, domains: this.domains, vectors: this.vectors, texts: this.texts, stateAsOf: (asOf) => this.stateAsOf(asOf) },
      domains,
    );
  }

  // ---- federated reads: local first (bad input fails here, before any peer is asked), then peers ----

  private async federatedRecall(options: RecallOptions & FederatedOptions): Promise<Federated<RecallHit>> {
    const startedMs = performance.now();
    const deadlineMs = deadlineOption(options.deadlineMs);
    const peers = this.selectPeers(options.peers);
    const { peers: _peers, deadlineMs: _deadline, ...query } = options;
    const deadline: Deadline = { atMs: startedMs + deadlineMs, cut: false };
    const local = this.recallHere(query, deadline);
    const body = snakeRecall(query);
    return this.mergeWithPeers({ peers, route: '/recall', body, local, localCut: deadline.cut, topK: query.topK ?? 10, startedMs, deadlineMs });
  }

  private async federatedSimilar(query: SimilarQuery, options: SimilarOptions & FederatedOptions): Promise<Federated<SimilarHit>> {
    const startedMs = performance.now();
    const deadlineMs = deadlineOption(options.deadlineMs);
    const peers = this.selectPeers(options.peers);
    const local = this.similarHere(query, { topK: options.topK, type: options.type });
    // Peers do not know this machine's ids: they are asked with the vector stored under it.
    const vector = 'id' in query && typeof query.id === 'string' ? this.vectors.get(query.id)!.vector : (query as { vector: number[] | Float32Array }).vector;
    const body: Record<string, unknown> = { vector: Array.from(vector), top_k: options.topK ?? 5 };
    if (options.type !== undefined) body.type = options.type;
    return this.mergeWithPeers({ peers, route: '/vectors/search', body, local, localCut: false, topK: options.topK ?? 5, startedMs, deadlineMs });
  }

  private selectPeers(selection: FederatedOptions['peers']): PeerClient[] {
    if (this.federation === undefined) {
      if (Array.isArray(selection) && selection.length === 0) return [];
      if (selection === true) return [];
      throw mnemoError('VALIDATION_FAILED', { field: 'peers[0]', reason: `unknown peer ${JSON.stringify((selection as unknown[])[0])}; this engine has no peers configured` });
    }
    return this.federation.select(selection);
  }

  private async mergeWithPeers<T extends { id: string; score: number }>(input: MergeInput<T>): Promise<Federated<T>> {
    if (this.federation === undefined) {
      return { results: fuseRankings([{ origin: hostname(), results: input.local }], input.topK), peers: [], degraded: input.localCut };
    }
    return this.federation.merge(input);
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
}

/** A recall's options as a peer's HTTP route reads them. */
function snakeRecall(options: RecallOptions): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  if (options.vector !== undefined) body.vector = Array.from(options.vector);
  if (options.text !== undefined) body.text = options.text;
  if (options.type !== undefined) body.type = options.type;
  if (options.depth !== undefined) body.depth = options.depth;
  if (options.topK !== undefined) body.top_k = options.topK;
  return body;
}
