// recall: the agent's "what do I know about this?" — vector (or text) seeds, expanded through the
// graph, each node scored 0.5·similarity + 0.3·proximity + 0.2·recency (SPEC.md), components returned.

import type { NodeRecord, RecallHit, RecallOptions } from '../api.js';
import { mnemoError } from '../errors.js';
import type { NodeState } from '../../projections/node-state.js';
import type { VectorIndex } from '../../projections/vector-index.js';
import type { GraphQueries } from './graph.js';
import { depthOption, topKOption, vectorOption } from './options.js';

const similarityWeight = 0.5;
const proximityWeight = 0.3;
const recencyWeight = 0.2;
/** recency = exp(-recencyDecayPerHour · hours since the node's last update). */
const recencyDecayPerHour = 0.01;
const msPerHour = 3_600_000;

export interface RecallSources {
  nodes: NodeState;
  vectors: VectorIndex;
  graph: GraphQueries;
  now: number;
}

export function recall(options: RecallOptions, sources: RecallSources): RecallHit[] {
  const topK = topKOption(options.topK, 10);
  const depth = options.depth === 0 ? 0 : depthOption(options.depth, 1);
  const query = options.vector === undefined ? undefined : vectorOption(options.vector, sources.vectors.dim, 'vector');
  if (query === undefined && (typeof options.text !== 'string' || options.text.trim() === '')) {
    throw mnemoError('VALIDATION_FAILED', { field: 'vector', reason: 'recall needs a vector or a non-empty text' });
  }
  const seeds = query !== undefined ? vectorSeeds(query, 2 * topK, sources) : textSeeds(options.text!, 2 * topK, sources.nodes);
  const hops = expand(seeds, depth, sources);
  const hits: RecallHit[] = [];
  for (const [id, hopCount] of hops) {
    const node = sources.nodes.get(id) ?? null;
    if (options.type !== undefined && node?.type !== options.type) continue;
    hits.push(score(id, node, hopCount, seeds.get(id) ?? similarityOf(id, query, sources), sources.now));
  }
  hits.sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : 1));
  return hits.slice(0, topK);
}

function score(id: string, node: NodeRecord | null, hopCount: number, similarity: number, now: number): RecallHit {
  const proximity = 1 / (1 + hopCount);
  const recency = node === null ? 0 : Math.exp((-recencyDecayPerHour * Math.max(0, now - node.updatedAt)) / msPerHour);
  const total = similarityWeight * similarity + proximityWeight * proximity + recencyWeight * recency;
  return { id, node, score: total, depth: hopCount, components: { similarity, proximity, recency } };
}

function vectorSeeds(query: Float32Array | readonly number[], count: number, sources: RecallSources): Map<string, number> {
  return new Map(sources.vectors.search(query, count).map((hit) => [hit.id, hit.score]));
}

/** Until the text index lands, text seeds are nodes whose string properties contain the most query words. */
function textSeeds(text: string, count: number, nodes: NodeState): Map<string, number> {
  const words = [...new Set(text.toLowerCase().split(/[^\p{L}\p{N}]+/u).filter((w) => w.length > 0))];
  const scored: Array<[string, number]> = [];
  for (const id of nodes.ids()) {
    const haystack = stringValues(nodes.get(id)!.properties).toLowerCase();
    let matched = 0;
    for (const word of words) if (haystack.includes(word)) matched++;
    if (matched > 0) scored.push([id, matched / words.length]);
  }
  scored.sort((a, b) => b[1] - a[1]);
  return new Map(scored.slice(0, count));
}

function stringValues(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === null || typeof value !== 'object') return '';
  return Object.values(value).map(stringValues).join(' ');
}

/** Seeds at hop 0, then everything within `depth` hops of a seed node in either direction, at its fewest hops. */
function expand(seeds: Map<string, number>, depth: number, sources: RecallSources): Map<string, number> {
  const hops = new Map<string, number>();
  for (const id of seeds.keys()) hops.set(id, 0);
  if (depth === 0) return hops;
  for (const id of seeds.keys()) {
    if (!sources.nodes.has(id)) continue;
    for (const node of sources.graph.withinDepth(id, depth, undefined, 'both')) {
      const known = hops.get(node.id);
      if (known === undefined || node.depth! < known) hops.set(node.id, node.depth!);
    }
  }
  return hops;
}

/** Cosine similarity of a reached node's own vector to the query; 0 when either is missing. */
function similarityOf(id: string, query: Float32Array | readonly number[] | undefined, sources: RecallSources): number {
  const stored = query === undefined ? undefined : sources.vectors.get(id);
  if (query === undefined || stored === undefined) return 0;
  let dot = 0;
  let qq = 0;
  let vv = 0;
  for (let i = 0; i < query.length; i++) {
    const q = query[i]!;
    const v = stored.vector[i]!;
    dot += q * v;
    qq += q * q;
    vv += v * v;
  }
  return qq === 0 || vv === 0 ? 0 : dot / Math.sqrt(qq * vv);
}
