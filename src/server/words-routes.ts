// The text routes: recall and vector search that take `text` where they take a vector (embedded by
// the configured embedder, cached), the memory index, and the prompt context. They replace the
// table's vector-only recall and vector search (same method and pattern) and add two more.

import { limits, type RecallOptions, type SimilarQuery } from '../index.js';
import { TimedResult } from '../kernel/timed.js';
import { bodyObject, invalid, optionalInt, optionalString, optionalVector, queryInt, type Body } from './input.js';
import type { Route, RouteRequest } from './routes.js';

const prime = '/api/v1/prime';

/** A field neither mnemo nor Prime knows is refused by name, never dropped. */
function onlyFields(body: Body, known: readonly string[]): Body {
  const unknown = Object.keys(body).find((key) => !known.includes(key));
  if (unknown !== undefined) throw invalid(unknown, `unknown field; expected one of ${known.join(', ')}`);
  return body;
}

function defined<T extends Record<string, unknown>>(value: T): T {
  for (const key of Object.keys(value)) if (value[key] === undefined) delete value[key];
  return value;
}

function timed(value: unknown, embedMs: number): TimedResult {
  return new TimedResult(value, { embed: embedMs });
}

const recallFields = ['text', 'vector', 'query', 'type', 'node_type', 'depth', 'top_k'];

function recallInput(r: RouteRequest): RecallOptions {
  const body = onlyFields(bodyObject(r.body), recallFields);
  const options = defined({
    vector: optionalVector(body, 'vector'),
    // Prime's clients send the question as `query` on some routes; both name the same thing.
    text: optionalString(body, 'text') ?? optionalString(body, 'query'),
    type: optionalString(body, 'type') ?? optionalString(body, 'node_type'),
    depth: optionalInt(body, 'depth', 0, limits.traversalDepthMax),
    topK: optionalInt(body, 'top_k', 1, limits.topKMax),
  });
  if (options.vector === undefined && (options.text === undefined || options.text.trim() === '')) throw invalid('vector', "give 'vector' or 'text' to recall from");
  return options;
}

const recall: Route<RecallOptions> = {
  method: 'post',
  pattern: `${prime}/recall`,
  operation: 'recall',
  peer: true,
  body: 'json',
  parse: recallInput,
  run: async ({ engine }, options) => {
    const answer = await engine.recallText(options);
    return timed({ results: answer.results, degraded: answer.degraded }, answer.embedMs);
  },
};

interface SearchInput {
  query: SimilarQuery;
  options: { topK?: number; type?: string };
}

const searchVectors: Route<SearchInput> = {
  method: 'post',
  pattern: `${prime}/vectors/search`,
  operation: 'vectors.search',
  peer: true,
  body: 'json',
  parse: (r) => {
    const body = onlyFields(bodyObject(r.body), ['vector', 'id', 'text', 'top_k', 'type', 'node_type']);
    const query = defined({ vector: optionalVector(body, 'vector'), id: optionalString(body, 'id'), text: optionalString(body, 'text') });
    if (Object.keys(query).length !== 1) throw invalid('vector', "give exactly one of 'vector', 'id' or 'text'");
    const options = defined({ topK: optionalInt(body, 'top_k', 1, limits.topKMax), type: optionalString(body, 'type') ?? optionalString(body, 'node_type') });
    return { query, options };
  },
  run: async ({ engine }, { query, options }) => {
    const answer = await engine.similarText(query, options);
    return timed({ results: answer.results }, answer.embedMs);
  },
};

const memoryIndex: Route<{ maxTokens?: number }> = {
  method: 'get',
  pattern: `${prime}/index`,
  operation: 'index',
  parse: (r) => defined({ maxTokens: queryInt(r.query, 'max_tokens', limits.indexTokensMin, limits.indexTokensMax) }),
  run: ({ engine }, options) => engine.memoryIndex(options),
};

interface ContextInput {
  query: string;
  maxTokens?: number;
  topK?: number;
}

const promptContext: Route<ContextInput> = {
  method: 'post',
  pattern: `${prime}/context`,
  operation: 'context',
  body: 'json',
  parse: (r) => {
    const body = onlyFields(bodyObject(r.body), ['query', 'text', 'max_tokens', 'top_k']);
    const query = optionalString(body, 'query') ?? optionalString(body, 'text');
    if (query === undefined || query.trim() === '') throw invalid('query', 'expected a non-empty string');
    return defined({ query, maxTokens: optionalInt(body, 'max_tokens', limits.indexTokensMin, limits.indexTokensMax), topK: optionalInt(body, 'top_k', 1, limits.topKMax) });
  },
  run: ({ engine }, { query, ...options }) => engine.promptContext(query, options),
};

export const wordsRoutes = [recall, searchVectors, memoryIndex, promptContext] as unknown as readonly Route[];

/** The table with the text routes in: one of the same method and pattern replaces the older. */
export function withWordsRoutes(table: readonly Route[]): readonly Route[] {
  const replaced = new Set(wordsRoutes.map((r) => `${r.method} ${r.pattern}`));
  return [...table.filter((r) => !replaced.has(`${r.method} ${r.pattern}`)), ...wordsRoutes];
}
