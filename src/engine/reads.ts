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
import type {
  AsOf,
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
  TextHit,
} from '../kernel/api.js';
import { mnemoError } from '../kernel/errors.js';
import type { StoredEvent } from '../kernel/events.js';
import { GraphQueries, pageFromSlice } from '../query/graph.js';
import { efOption, limitOption, offsetOption, topKOption, vectorOption } from '../query/options.js';
import { recall } from '../query/recall.js';
import type { EventLog, HistoricalState, TimeTravel } from './history.js';

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

  similar(query: { id: string } | { vector: number[] | Float32Array }, options: { topK?: number; type?: string; ef?: number } = {}): SimilarHit[] {
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
}
