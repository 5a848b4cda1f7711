// The reads a peer may make, limited to nodes of some domains. Every other node does not exist
// here: a lookup of one is NODE_NOT_FOUND (the same answer as for an id never used), walks neither
// return nor pass through one, vector and text searches never seed from one, and the counts leave
// them out. A vector or text whose id is not a shared node is hidden too, so nothing stored under an
// unshared id (or under no node at all) can leak through similarity.

import type { Adjacency } from '../../projections/adjacency.js';
import type { DomainIndex } from '../../projections/domain-index.js';
import type { NodeState } from '../../projections/node-state.js';
import type { TextIndex } from '../../projections/text-index.js';
import type { VectorIndex } from '../../projections/vector-index.js';
import type {
  AsOf,
  EngineStats,
  NeighborNode,
  NeighborsOptions,
  NodeRecord,
  Page,
  RecallHit,
  RecallOptions,
  SharedReads,
  SimilarHit,
  SimilarOptions,
  SimilarQuery,
  Subgraph,
  SubgraphOptions,
} from '../kernel/api.js';
import { mnemoError } from '../kernel/errors.js';
import type { JsonBytes } from '../kernel/wire.js';
import { GraphQueries, pageFromSlice } from '../query/graph.js';
import { limitOption, offsetOption, topKOption, vectorOption } from '../query/options.js';
import { recall, type Deadline } from '../query/recall.js';
import type { HistoricalState } from './history.js';

export interface SharedSources {
  nodes: NodeState;
  adjacency: Adjacency;
  domains: DomainIndex;
  vectors: VectorIndex;
  texts: TextIndex;
  stateAsOf(asOf: AsOf): HistoricalState;
}

export class DomainSharedReads implements SharedReads {
  private readonly shared: ReadonlySet<string>;
  private readonly graph: GraphQueries;
  private readonly visibleId: (id: string) => boolean;

  constructor(
    private readonly sources: SharedSources,
    domains: readonly string[],
  ) {
    this.shared = new Set(domains);
    const { nodes } = sources;
    this.graph = new GraphQueries(nodes, sources.adjacency, (handle) => this.shared.has(nodes.domainAt(handle)));
    this.visibleId = (id) => {
      const handle = nodes.handleOf(id);
      return handle >= 0 && this.shared.has(nodes.domainAt(handle));
    };
  }

  getNode(id: string, options?: { asOf?: AsOf }): NodeRecord | null {
    const nodes = options?.asOf === undefined ? this.sources.nodes : this.sources.stateAsOf(options.asOf).nodes;
    const node = nodes.get(id);
    return node !== undefined && this.shared.has(node.domain) ? node : null;
  }

  neighbors(id: string, options: NeighborsOptions = {}): Page<NeighborNode> {
    return this.graphAround(id, options.asOf).neighbors(id, options);
  }

  neighborsJson(id: string, options: NeighborsOptions = {}): Page<JsonBytes> {
    return this.graphAround(id, options.asOf).neighborsJson(id, options);
  }

  /** The shared part of the graph (now, or as of `asOf`) holding node `id`; refused when `id` is not shared. */
  private graphAround(id: string, asOf: AsOf | undefined): GraphQueries {
    if (asOf === undefined) {
      this.requireShared(this.sources.nodes, id);
      return this.graph;
    }
    const state = this.sources.stateAsOf(asOf);
    this.requireShared(state.nodes, id);
    return new GraphQueries(state.nodes, state.adjacency, (handle) => this.shared.has(state.nodes.domainAt(handle)));
  }

  subgraph(id: string, options: SubgraphOptions = {}): Subgraph {
    this.requireShared(this.sources.nodes, id);
    return this.graph.subgraph(id, options.depth, options.deadlineMs);
  }

  search(options: { type: string; limit?: number; offset?: number }): Page<NodeRecord> {
    const offset = offsetOption(options.offset);
    const limit = limitOption(options.limit);
    if (!this.shared.has(options.type)) return pageFromSlice([], 0, offset);
    const { ids, total } = this.sources.domains.page(options.type, offset, limit);
    return pageFromSlice(
      ids.map((id) => this.sources.nodes.get(id)!),
      total,
      offset,
    );
  }

  similar(query: SimilarQuery, options: SimilarOptions = {}): SimilarHit[] {
    const topK = topKOption(options.topK, 5);
    const { vectors, nodes } = this.sources;
    let vector: Float32Array | readonly number[];
    let exclude: string | undefined;
    if ('id' in query && typeof query.id === 'string') {
      const stored = this.visibleId(query.id) ? vectors.get(query.id) : undefined;
      if (stored === undefined) throw mnemoError('VECTOR_NOT_FOUND', { id: query.id });
      vector = stored.vector;
      exclude = query.id;
    } else {
      vector = vectorOption((query as { vector?: unknown }).vector, vectors.dim, 'vector');
    }
    const type = options.type;
    const accept = (id: string) => id !== exclude && this.visibleId(id) && (type === undefined || nodes.typeOfNode(id) === type);
    const hits: SimilarHit[] = vectors.search(vector, topK, accept);
    return hits;
  }

  recall(options: RecallOptions, deadline?: Deadline): RecallHit[] {
    const { nodes, vectors, texts } = this.sources;
    return recall(options, { nodes, vectors, texts, graph: this.graph, now: Date.now(), visible: this.visibleId, ...(deadline === undefined ? {} : { deadline }) });
  }

  /**
   * Live counts over shared nodes only: nodes and vectors of the shared domains, edges with both
   * ends shared. Walks the shared nodes' out-edges (linear in what is shared). Log, checkpoint and
   * compaction figures are left out: they count unshared activity too.
   */
  stats(): EngineStats {
    const { nodes, adjacency, domains, vectors } = this.sources;
    const nodesByType: Record<string, number> = {};
    const edgesByRelation: Record<string, number> = {};
    let totalNodes = 0;
    let totalEdges = 0;
    let totalVectors = 0;
    for (const domain of this.shared) {
      const size = domains.size(domain);
      for (let offset = 0; offset < size; offset += sharedStatsPageNodes) {
        for (const id of domains.page(domain, offset, sharedStatsPageNodes).ids) {
          totalNodes++;
          const type = nodes.typeOfNode(id)!;
          nodesByType[type] = (nodesByType[type] ?? 0) + 1;
          if (vectors.has(id)) totalVectors++;
          for (const edge of adjacency.out(id)) {
            if (!this.visibleId(edge.target)) continue;
            totalEdges++;
            edgesByRelation[edge.relation] = (edgesByRelation[edge.relation] ?? 0) + 1;
          }
        }
      }
    }
    // Deletions are not revealed to peers (they would tell of unshared activity).
    return { totalNodes, totalEdges, totalVectors, nodesByType, edgesByRelation, eventCount: 0, lastSeq: 0, vectorsPending: 0, deletedNodes: 0, deletedEdges: 0, sharedDomains: [...this.shared].sort() };
  }

  private requireShared(nodes: NodeState, id: string): void {
    const handle = nodes.handleOf(id);
    if (handle < 0 || !this.shared.has(nodes.domainAt(handle))) throw mnemoError('NODE_NOT_FOUND', { id });
  }
}

/** Stats walk a domain's members in pages of this many ids (the domain index hands out slices). */
const sharedStatsPageNodes = 4096;
