// recall: the agent's "what do I know about this?" — seeds from the vector index, the text index
// (BM25) or both fused, expanded through the graph, each node scored
// 0.5·similarity + 0.3·proximity + 0.2·recency, with the components and retrievers returned.

import { performance } from 'node:perf_hooks';
import type { NodeRecord, RecallHit, RecallOptions } from '../kernel/api.js';
import { mnemoError } from '../kernel/errors.js';
import type { NodeState } from '../../projections/node-state.js';
import type { TextIndex } from '../../projections/text-index.js';
import type { VectorIndex } from '../../projections/vector-index.js';
import type { GraphQueries } from './graph.js';
import { depthOption, efOption, topKOption, vectorOption } from './options.js';

const similarityWeight = 0.5;
const proximityWeight = 0.3;
const recencyWeight = 0.2;
/** recency = exp(-recencyDecayPerHour · hours since the node's last update). */
const recencyDecayPerHour = 0.01;
const msPerHour = 3_600_000;

export interface RecallSources {
  nodes: NodeState;
  vectors: VectorIndex;
  texts: TextIndex;
  graph: GraphQueries;
  now: number;
  /** Hides every other id from seeding (the graph hides them from expansion): a peer's view of shared domains. */
  visible?: (id: string) => boolean;
  /** Cooperative deadline: expansion stops once performance.now() passes `atMs`, and `cut` says it did. */
  deadline?: Deadline;
}

export interface Deadline {
  atMs: number;
  cut: boolean;
}

/** Reciprocal rank fusion constant (Cormack et al.'s 60): damps the head of each ranking. */
const rrfK = 60;

type Retriever = 'lexical' | 'semantic';

/** A seed: its relevance in [0, 1] (the `similarity` component) and the retrievers that found it. */
interface Seed {
  relevance: number;
  retrievers: Retriever[];
}

export function recall(options: RecallOptions, sources: RecallSources): RecallHit[] {
  const topK = topKOption(options.topK, 10);
  const depth = options.depth === 0 ? 0 : depthOption(options.depth, 1);
  const query = options.vector === undefined ? undefined : vectorOption(options.vector, sources.vectors.dim, 'vector');
  const text = typeof options.text === 'string' && options.text.trim() !== '' ? options.text : undefined;
  if (options.text !== undefined && typeof options.text !== 'string') {
    throw mnemoError('VALIDATION_FAILED', { field: 'text', reason: 'expected a string' });
  }
  if (query === undefined && text === undefined) {
    throw mnemoError('VALIDATION_FAILED', { field: 'vector', reason: 'recall needs a vector or a non-empty text' });
  }
  const seeds = seedsOf(query, text, 2 * topK, sources, efOption(options.ef));
  const hops = expand(seeds, depth, sources);
  const similarityTo = query === undefined ? undefined : sources.vectors.scorer(query);
  const hits: RecallHit[] = [];
  for (const [id, hopCount] of hops) {
    const node = sources.nodes.get(id) ?? null;
    if (options.type !== undefined && node?.type !== options.type) continue;
    const seed = seeds.get(id);
    // A reached node's own similarity to the query vector; 0 when either is missing.
    const similarity = seed?.relevance ?? similarityTo?.(id) ?? 0;
    hits.push(score(id, node, hopCount, similarity, seed?.retrievers ?? ['graph'], sources.now));
  }
  hits.sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : 1));
  return hits.slice(0, topK);
}

function score(id: string, node: NodeRecord | null, hopCount: number, similarity: number, retrieval: RecallHit['retrieval'], now: number): RecallHit {
  const proximity = 1 / (1 + hopCount);
  const recency = node === null ? 0 : Math.exp((-recencyDecayPerHour * Math.max(0, now - node.updatedAt)) / msPerHour);
  const total = similarityWeight * similarity + proximityWeight * proximity + recencyWeight * recency;
  return { id, node, score: total, depth: hopCount, components: { similarity, proximity, recency }, retrieval };
}

/**
 * Vector only: relevance is the cosine similarity. Text only: the BM25 score over the best hit's
 * (so the best lexical match has 1). Both: the two rankings fused by reciprocal rank fusion, over
 * the best possible fused score (first in both lists), so relevance stays in [0, 1].
 */
function seedsOf(query: Float32Array | readonly number[] | undefined, text: string | undefined, count: number, sources: RecallSources, ef: number | undefined): Map<string, Seed> {
  const semantic = query === undefined ? [] : sources.vectors.search(query, count, sources.visible, ef);
  const lexical = text === undefined ? [] : sources.texts.search(text, count, sources.visible);
  const seeds = new Map<string, Seed>();
  if (text === undefined) {
    for (const hit of semantic) seeds.set(hit.id, { relevance: hit.score, retrievers: ['semantic'] });
    return seeds;
  }
  if (query === undefined) {
    const best = lexical[0]?.score ?? 1;
    for (const hit of lexical) seeds.set(hit.id, { relevance: hit.score / best, retrievers: ['lexical'] });
    return seeds;
  }
  const fused = new Map<string, Seed>();
  const add = (ids: string[], retriever: Retriever) =>
    ids.forEach((id, rank) => {
      const seed = fused.get(id) ?? { relevance: 0, retrievers: [] };
      seed.relevance += 1 / (rrfK + rank + 1);
      seed.retrievers.push(retriever);
      fused.set(id, seed);
    });
  add(lexical.map((h) => h.id), 'lexical');
  add(semantic.map((h) => h.id), 'semantic');
  const bestPossible = 2 / (rrfK + 1);
  const ranked = [...fused.entries()].sort((a, b) => b[1].relevance - a[1].relevance || (a[0] < b[0] ? -1 : 1)).slice(0, count);
  for (const [id, seed] of ranked) seeds.set(id, { relevance: seed.relevance / bestPossible, retrievers: seed.retrievers });
  return seeds;
}

/** Seeds at hop 0, then everything within `depth` hops of a seed node in either direction, at its fewest hops. */
function expand(seeds: Map<string, Seed>, depth: number, sources: RecallSources): Map<string, number> {
  const hops = new Map<string, number>();
  for (const id of seeds.keys()) hops.set(id, 0);
  if (depth === 0) return hops;
  const deadline = sources.deadline;
  for (const id of seeds.keys()) {
    if (deadline !== undefined && performance.now() > deadline.atMs) {
      // What was gathered so far is the answer; the caller reports it as degraded.
      deadline.cut = true;
      break;
    }
    if (!sources.nodes.has(id)) continue;
    for (const node of sources.graph.withinDepth(id, depth, undefined, 'both')) {
      const known = hops.get(node.id);
      if (known === undefined || node.depth! < known) hops.set(node.id, node.depth!);
    }
  }
  return hops;
}
