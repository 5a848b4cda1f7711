// GET /api/v1/prime/graph: the live graph in one answer, AllSource Prime's full-graph shape
// `{nodes, edges, stats, has_more}`, and GET /graph.html, a small page that draws it. Both exist so
// a Prime user's scripts and bookmarks keep working; the graph inspector is the place to browse.

import { limits, type MnemoEngine, type NodeRecord } from '../index.js';

// Prime returns the whole store; a large memory as one JSON body would stall the event loop for
// seconds, so without `limit` the answer stops at limits.graphNodesDefault and `has_more` says so.

export interface GraphOptions {
  nodeType?: string;
  limit?: number;
  tenant?: string;
}

interface GraphNode {
  id: string;
  nodeType: string;
  /** mnemo's name for the same thing, beside Prime's `node_type`. */
  type: string;
  domain: string;
  properties: NodeRecord['properties'];
  hasVector: boolean;
  vectorDim: number | null;
  createdAt: string;
  updatedAt: string;
}

interface GraphEdge {
  id: string;
  source: string;
  target: string;
  relation: string;
  properties: Record<string, unknown> | null;
  weight: number;
}

export function graphAnswer(engine: MnemoEngine, options: GraphOptions): { nodes: GraphNode[]; edges: GraphEdge[]; stats: Record<string, unknown>; hasMore: boolean } {
  const limit = options.limit ?? limits.graphNodesDefault;
  const { records, hasMore } = nodesOf(engine, options, limit);
  const included = new Set(records.map((n) => n.id));
  const nodes = records.map((node) => graphNode(engine, node));
  const edges = edgesAmong(engine, records, included);
  const nodesByType: Record<string, number> = {};
  for (const node of records) nodesByType[node.type] = (nodesByType[node.type] ?? 0) + 1;
  return {
    nodes,
    edges,
    stats: { nodeCount: nodes.length, edgeCount: edges.length, vectorCount: nodes.filter((n) => n.hasVector).length, nodesByType: nodesByType },
    hasMore,
  };
}

/** Every node of the asked types, page by page through the type index, up to `limit`. */
function nodesOf(engine: MnemoEngine, options: GraphOptions, limit: number): { records: NodeRecord[]; hasMore: boolean } {
  const types = options.nodeType !== undefined ? [options.nodeType] : Object.keys(engine.stats().nodesByType);
  const records: NodeRecord[] = [];
  for (const nodeType of types) {
    for (let offset = 0; ; offset += limits.pageLimitMax) {
      const page = engine.search({ nodeType, offset, limit: limits.pageLimitMax });
      for (const node of page.nodes) {
        if (options.tenant !== undefined && node.properties['tenant_id'] !== options.tenant) continue;
        if (records.length === limit) return { records, hasMore: true };
        records.push(node);
      }
      if (page.nextOffset === undefined) break;
    }
  }
  return { records, hasMore: false };
}

function graphNode(engine: MnemoEngine, node: NodeRecord): GraphNode {
  const stored = engine.getVector(node.id);
  const hasVector = stored !== null && stored.vector.length > 0;
  return {
    id: node.id,
    nodeType: node.type,
    type: node.type,
    domain: node.domain,
    properties: node.properties,
    hasVector,
    vectorDim: hasVector ? stored.vector.length : null,
    createdAt: new Date(node.createdAt).toISOString(),
    updatedAt: new Date(node.updatedAt).toISOString(),
  };
}

/** Edges whose two ends are both in the answer, each once (found from its source). */
function edgesAmong(engine: MnemoEngine, nodes: readonly NodeRecord[], included: ReadonlySet<string>): GraphEdge[] {
  const edges: GraphEdge[] = [];
  for (const node of nodes) {
    for (const edge of engine.subgraph(node.id, { depth: 1 }).edges) {
      if (edge.source !== node.id || !included.has(edge.target)) continue;
      edges.push({ id: edge.id, source: edge.source, target: edge.target, relation: edge.relation, properties: Object.keys(edge.properties).length === 0 ? null : edge.properties, weight: edge.weight });
    }
  }
  return edges;
}

/** A self-contained page (no external scripts) listing the graph from /graph: offline, same origin. */
export const graphPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>mnemo graph</title>
<style>body{font:14px system-ui,sans-serif;margin:1.5rem;color:#222}h1{font-size:1.2rem}table{border-collapse:collapse}td,th{padding:.2rem .6rem;border-bottom:1px solid #ddd;text-align:left;vertical-align:top}code{font-size:12px}#stats{color:#555}</style>
</head><body>
<h1>mnemo memory graph</h1>
<p id="stats">loading…</p>
<h2>Nodes</h2><table id="nodes"><thead><tr><th>id</th><th>type</th><th>properties</th><th>links</th></tr></thead><tbody></tbody></table>
<script>
const text = (value) => document.createTextNode(typeof value === 'string' ? value : JSON.stringify(value));
const cell = (row, value) => row.insertCell().appendChild(text(value));
fetch('graph' + location.search).then((r) => r.json()).then((g) => {
  document.getElementById('stats').textContent = g.stats.node_count + ' nodes, ' + g.stats.edge_count + ' edges, ' + g.stats.vector_count + ' vectors' + (g.has_more ? ' (more: narrow with ?node_type= or ?limit=)' : '');
  const links = new Map();
  for (const e of g.edges) links.set(e.source, (links.get(e.source) || []).concat(e.relation + ' → ' + e.target));
  const body = document.querySelector('#nodes tbody');
  for (const n of g.nodes) {
    const row = body.insertRow();
    cell(row, n.id); cell(row, n.node_type); cell(row, n.properties); cell(row, (links.get(n.id) || []).join('\\n'));
  }
}).catch((e) => { document.getElementById('stats').textContent = 'could not load the graph: ' + e; });
</script>
</body></html>
`;
