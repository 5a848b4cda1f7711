// Every HTTP route as data: method, pattern, how to read its input (parse)
// and which engine call answers it (run). The server times the two separately for
// Server-Timing, converts the result to snake_case, and mirrors routes marked `peer` under
// /peer (read-only). Results are returned in the engine's camelCase.

import { MnemoError, isMnemoError, limits, type MnemoEngine, type NodeRecord } from '../index.js';
import type { JsonValue } from '../index.js';
import { federatedOptions } from './federated.js';
import { TimedResult } from '../kernel/timed.js';
import { RawResult } from '../kernel/wire.js';
import {
  createEdgeRequest,
  createNodeRequest,
  crossDomainQuery,
  diffQuery,
  eventsRequest,
  getNodeQuery,
  graphQuery,
  inRequestFields,
  invalid,
  neighborsQuery,
  noQuery,
  parseInput,
  queryObject,
  recallRequest,
  contextRequest,
  indexQuery,
  searchQuery,
  shortestPathRequest,
  storeVectorRequest,
  subgraphQuery,
  updateNodeRequest,
  vectorSearchRequest,
} from '../kernel/requests.js';
import { degradedNote, historyRow, pathAnswer, recallHits, recallInputOf, recallRows, similarRows, statsAnswer, totalsAnswer, typeOf } from '../kernel/prime-wire.js';
import { pathParam } from './input.js';
import { graphAnswer, graphPage } from './graph.js';

type Properties = Record<string, JsonValue>;

export interface RouteRequest {
  /** Path parameters, raw (percent-encoded), in pattern order. */
  params: readonly string[];
  query: URLSearchParams;
  /** The decoded body; undefined when the route takes none or it was empty. */
  body: unknown;
}

export interface RouteContext {
  engine: MnemoEngine;
  /** Server-owned stats (memory, uptime, latency) merged into /stats. */
  serverStats(): Record<string, unknown>;
}

/** 'events' also accepts msgpack and a larger cap; 'raw' hands the route the bytes undecoded. */
export type BodyKind = 'json' | 'events' | 'raw';

export interface Route<I = unknown> {
  method: 'get' | 'post' | 'patch' | 'del';
  pattern: string;
  /** Name under which latency is recorded and reported. */
  operation: string;
  /** Mirrored under /peer for other machines: read routes only. */
  peer?: boolean;
  /** Absent: the route reads no body. 'events' also accepts msgpack and a larger cap. */
  body?: BodyKind;
  /** 201 Created instead of 200. */
  created?: boolean;
  parse(request: RouteRequest): I;
  run(context: RouteContext, input: I): unknown;
}

/** Erases a route's input type so routes of different inputs share one table. */
function route<I>(definition: Route<I>): Route<unknown> {
  return definition as Route<unknown>;
}

const prime = '/api/v1/prime';

function id(request: RouteRequest, field = 'id'): string {
  return pathParam(request.params[0] ?? '', field);
}

type QuerySchema = Parameters<typeof parseInput>[0];

/** Per query schema: whether no parameters at all is valid for it (every parameter optional). */
const acceptsNoQuery = new WeakMap<QuerySchema, boolean>();

/**
 * A route's query parameters, checked (an unknown one is refused by name). Most reads carry none:
 * then the schema's verdict on an empty query, worked out once per schema, stands in for running it
 * (the same answer, an empty object, or the same error from the schema when a parameter is required).
 */
function queryOf<T>(request: RouteRequest, schema: QuerySchema): T {
  if (request.query.size === 0) {
    let empty = acceptsNoQuery.get(schema);
    if (empty === undefined) {
      const parsed = schema.safeParse({});
      empty = parsed.success && Object.keys(parsed.data as object).length === 0;
      acceptsNoQuery.set(schema, empty);
    }
    if (empty) return {} as T;
  }
  return parseInput(schema, queryObject(request.query), 'query') as T;
}

function bodyOf<T>(request: RouteRequest, schema: Parameters<typeof parseInput>[0]): T {
  queryOf(request, noQuery);
  return parseInput(schema, request.body, 'body') as T;
}

function nodeOrNotFound(node: NodeRecord | null, id: string): NodeRecord {
  if (node === null) throw new MnemoError('NODE_NOT_FOUND', { id });
  return node;
}

/**
 * A copy without the keys whose value is undefined, so engine defaults apply (exactOptional-friendly).
 * A copy, not deletes: deleting keys turns an object into a slow dictionary for whatever reads it next.
 */
function withoutUndefined<T extends Record<string, unknown>>(value: T): T {
  const out: Record<string, unknown> = {};
  for (const key in value) if (value[key] !== undefined) out[key] = value[key];
  return out as T;
}

/** `direction` in mnemo's words (Prime's `incoming`/`outgoing` accepted). */
function directionOf(raw: string | undefined): 'out' | 'in' | 'both' | undefined {
  if (raw === 'outgoing') return 'out';
  if (raw === 'incoming') return 'in';
  return raw as 'out' | 'in' | 'both' | undefined;
}

/**
 * HTTP neighbours without `limit` return every neighbour up to the page maximum: Prime answers all
 * rows, and most agents never page. A hub's thousands of rows in one answer would cost latency and
 * memory, so past the maximum `total` and `next_offset` say there is more.
 */
const neighborsRowsDefault = limits.pageLimitMax;
const neighborsDefaults = Object.freeze({ limit: neighborsRowsDefault });

// ---- nodes ----

const createNode = route({
  method: 'post',
  pattern: `${prime}/nodes`,
  operation: 'nodes.create',
  body: 'json',
  created: true,
  parse: (r) => {
    const body = bodyOf<{ type?: string; node_type?: string; properties?: Properties; id?: string }>(r, createNodeRequest);
    const type = typeOf(body);
    if (type === undefined) throw invalid('type', 'expected a non-empty string, got nothing');
    return withoutUndefined({ type, properties: body.properties, id: body.id });
  },
  run: async ({ engine }, input) => {
    const { nodeId } = await inRequestFields(engine.addNode(input));
    // Prime answers with both names for the same id.
    return { nodeId, entityId: nodeId };
  },
});

const getNode = route({
  method: 'get',
  pattern: `${prime}/nodes/:id`,
  operation: 'nodes.get',
  peer: true,
  parse: (r) => ({ id: id(r), asOf: queryOf<{ as_of?: number | string }>(r, getNodeQuery).as_of }),
  run: ({ engine }, { id, asOf }) => nodeOrNotFound(engine.getNode(id, asOf === undefined ? undefined : { asOf }), id),
});

const updateNode = route({
  method: 'patch',
  pattern: `${prime}/nodes/:id`,
  operation: 'nodes.update',
  body: 'json',
  parse: (r) => ({ id: id(r), properties: bodyOf<{ properties: Properties }>(r, updateNodeRequest).properties }),
  run: async ({ engine }, { id, properties }) => {
    await inRequestFields(engine.updateNode(id, properties), 'id');
    // Prime's `updated`, beside the node as it now is.
    return { updated: true, ...nodeOrNotFound(engine.getNode(id), id) };
  },
});

const deleteNode = route({
  method: 'del',
  pattern: `${prime}/nodes/:id`,
  operation: 'nodes.delete',
  parse: (r) => (queryOf(r, noQuery), id(r)),
  run: async ({ engine }, id) => {
    await inRequestFields(engine.deleteNode(id), 'id');
    return { deleted: true, id };
  },
});

const neighbors = route({
  method: 'get',
  pattern: `${prime}/nodes/:id/neighbors`,
  operation: 'nodes.neighbors',
  peer: true,
  parse: (r) => {
    // Most calls give no query: the options are the defaults (the engine does not change them).
    if (r.query.size === 0) return { id: id(r), options: neighborsDefaults };
    const q = queryOf<{ relation?: string; direction?: string; depth?: number; limit?: number; offset?: number; as_of?: number | string; deadline_ms?: number }>(r, neighborsQuery);
    return {
      id: id(r),
      options: withoutUndefined({
        relation: q.relation,
        direction: directionOf(q.direction),
        depth: q.depth,
        limit: q.limit ?? neighborsRowsDefault,
        offset: q.offset,
        asOf: q.as_of,
        deadlineMs: q.deadline_ms,
      }),
    };
  },
  run: ({ engine }, { id, options }) => engine.neighborsJson(id, options),
});

const subgraph = route({
  method: 'get',
  pattern: `${prime}/nodes/:id/subgraph`,
  operation: 'nodes.subgraph',
  peer: true,
  parse: (r) => {
    const q = queryOf<{ depth?: number; deadline_ms?: number }>(r, subgraphQuery);
    return { id: id(r), depth: q.depth, deadlineMs: q.deadline_ms };
  },
  run: ({ engine }, { id, depth, deadlineMs }) => engine.subgraph(id, withoutUndefined({ depth, deadlineMs })),
});

const history = route({
  method: 'get',
  pattern: `${prime}/nodes/:id/history`,
  operation: 'nodes.history',
  parse: (r) => (queryOf(r, noQuery), id(r)),
  run: ({ engine }, id) => ({ events: engine.history(id).map(historyRow) }),
});

// ---- edges ----

const createEdge = route({
  method: 'post',
  pattern: `${prime}/edges`,
  operation: 'edges.create',
  body: 'json',
  created: true,
  parse: (r) => withoutUndefined(bodyOf<{ source: string; target: string; relation: string; weight?: number; properties?: Properties; id?: string }>(r, createEdgeRequest)),
  run: async ({ engine }, input) => ({ edgeId: (await inRequestFields(engine.addEdge(input))).edgeId }),
});

const deleteEdge = route({
  method: 'del',
  pattern: `${prime}/edges/:id`,
  operation: 'edges.delete',
  parse: (r) => (queryOf(r, noQuery), id(r)),
  run: async ({ engine }, id) => {
    await inRequestFields(engine.deleteEdge(id), 'id');
    return { deleted: true, id };
  },
});

// ---- vectors ----

const storeVector = route({
  method: 'post',
  pattern: `${prime}/vectors`,
  operation: 'vectors.store',
  body: 'json',
  created: true,
  parse: (r) => {
    const input = withoutUndefined(bodyOf<{ id: string; vector?: number[]; text?: string; metadata?: Properties }>(r, storeVectorRequest));
    if (input.vector === undefined && input.text === undefined) throw invalid('vector', "give 'vector' or 'text' (or both)");
    return input;
  },
  run: async ({ engine }, input) => {
    await inRequestFields(engine.embed(input));
    return { stored: true, id: input.id };
  },
});

const searchVectors = route({
  method: 'post',
  pattern: `${prime}/vectors/search`,
  operation: 'vectors.search',
  peer: true,
  body: 'json',
  parse: (r) => {
    const body = bodyOf<{ vector?: number[]; id?: string; text?: string; top_k?: number; type?: string; node_type?: string; peers?: boolean | string[]; deadline_ms?: number }>(r, vectorSearchRequest);
    const given = [body.vector, body.id, body.text].filter((v) => v !== undefined).length;
    if (given !== 1) throw invalid('vector', "give exactly one of 'vector', 'id' or 'text'");
    const options = withoutUndefined({ topK: body.top_k, type: typeOf(body) });
    const query = body.vector !== undefined ? { vector: body.vector } : body.id !== undefined ? { id: body.id } : { text: body.text! };
    return { query, options, federated: federatedOptions(body) };
  },
  // Not async: a vector or id search answers in this turn, without a promise and a microtask (route overhead beyond HNSW ~1.3 -> ~0.7 µs in process).
  run: ({ engine }, { query, options, federated }) => {
    if ('text' in query) {
      // Embedded by the configured embedder (EMBEDDER_MISSING without one); its time is Server-Timing's `embed` hop.
      return engine.similarText(query, options).then((answer) => new TimedResult({ results: similarRows(answer.results) }, { embed: answer.embedMs }));
    }
    return federated === undefined ? { results: similarRows(engine.similar(query, options)) } : engine.similar(query, { ...options, ...federated });
  },
});

const deleteVector = route({
  method: 'del',
  pattern: `${prime}/vectors/:id`,
  operation: 'vectors.delete',
  parse: (r) => (queryOf(r, noQuery), id(r)),
  run: async ({ engine }, id) => {
    await inRequestFields(engine.deleteVector(id), 'id');
    return { deleted: true, id };
  },
});

// ---- queries ----

const shortestPath = route({
  method: 'post',
  pattern: `${prime}/shortest-path`,
  operation: 'shortest_path',
  body: 'json',
  parse: (r) => {
    const body = bodyOf<{ from: string; to: string; relation?: string; direction?: string }>(r, shortestPathRequest);
    return { from: body.from, to: body.to, options: withoutUndefined({ relation: body.relation, direction: directionOf(body.direction) }) };
  },
  run: ({ engine }, { from, to, options }) => pathAnswer(engine.shortestPath(from, to, options)),
});

const recall = route({
  method: 'post',
  pattern: `${prime}/recall`,
  operation: 'recall',
  peer: true,
  body: 'json',
  parse: (r) => {
    const body = bodyOf<Parameters<typeof recallInputOf>[0] & { fields?: string; peers?: boolean | string[]; deadline_ms?: number }>(r, recallRequest);
    // MCP's rows follow `fields`; HTTP's are Prime's fixed {id, type, score, depth}, whole nodes under `results`.
    if (body.fields !== undefined) throw invalid('fields', "only MCP's prime_recall takes fields; over HTTP, rows are {id, type, score, depth} and whole nodes are under 'results'");
    return { input: recallInputOf(body), federated: federatedOptions(body) };
  },
  run: async ({ engine }, { input, federated }) => {
    if (federated !== undefined) {
      // Asked of peers too: {results (each with its origin), peers, degraded} (docs/federation.md).
      const { tenant: _tenant, ...options } = input;
      return engine.recall({ ...options, ...federated });
    }
    if (input.text !== undefined && engine.embedder !== undefined) {
      // With an embedder, text is embedded too (fused with BM25), cached; BM25 alone with `degraded` if the embedder fails.
      const { tenant: _tenant, ...options } = input;
      const answer = await engine.recallText(options);
      const hits = answer.results;
      const retrieval = answer.degraded ? 'lexical' : 'semantic';
      const degraded = answer.degraded ? 'the embedder did not answer; ranked by BM25 text match only' : undefined;
      return new TimedResult(withoutUndefined({ nodes: recallRows(hits), retrieval, degraded, results: hits }), { embed: answer.embedMs });
    }
    const { hits, retrieval } = recallHits(engine, input);
    const degraded = degradedNote(retrieval);
    // Prime's `nodes`, `retrieval` and `degraded`, beside mnemo's scored `results`.
    return withoutUndefined({ nodes: recallRows(hits), retrieval, degraded, results: hits });
  },
});

const search = route({
  method: 'get',
  pattern: `${prime}/search`,
  operation: 'search',
  peer: true,
  parse: (r) => {
    const q = queryOf<{ type?: string; node_type?: string; limit?: number; offset?: number }>(r, searchQuery);
    if ((q.type === undefined || q.type === '') && (q.node_type === undefined || q.node_type === '')) throw invalid('type', "required query parameter is missing (or give 'node_type')");
    if (q.type !== undefined && q.node_type !== undefined) throw invalid('node_type', "give one of 'type' (a domain) or 'node_type'");
    return withoutUndefined({ type: q.type, nodeType: q.node_type, limit: q.limit, offset: q.offset });
  },
  run: ({ engine }, options) => engine.search(options),
});

const crossDomain = route({
  method: 'get',
  pattern: `${prime}/cross-domain`,
  operation: 'cross_domain',
  parse: (r) => {
    const q = queryOf<{ a: string; b: string; limit?: number; offset?: number }>(r, crossDomainQuery);
    return { a: q.a, b: q.b, page: withoutUndefined({ limit: q.limit, offset: q.offset }) };
  },
  run: ({ engine }, { a, b, page }) => engine.crossDomain(a, b, page),
});

const stats = route({
  method: 'get',
  pattern: `${prime}/stats`,
  operation: 'stats',
  peer: true,
  parse: (r) => queryOf(r, noQuery),
  run: ({ engine, serverStats }) => ({ ...statsAnswer(engine.stats()), ...serverStats() }),
});

const diff = route({
  method: 'get',
  pattern: `${prime}/diff`,
  operation: 'diff',
  parse: (r) => {
    const q = queryOf<{ from?: number | string; to?: number | string }>(r, diffQuery);
    if ((q.from === undefined) !== (q.to === undefined)) throw invalid(q.from === undefined ? 'from' : 'to', "give both 'from' and 'to', or neither for totals");
    return q;
  },
  // Without from/to, Prime answers totals.
  run: ({ engine }, { from, to }) => (from === undefined || to === undefined ? totalsAnswer(engine.stats()) : engine.diff(from, to)),
});

const graph = route({
  method: 'get',
  pattern: `${prime}/graph`,
  operation: 'graph',
  parse: (r) => queryOf<{ node_type?: string; limit?: number; tenant_id?: string }>(r, graphQuery),
  run: ({ engine }, q) => graphAnswer(engine, withoutUndefined({ nodeType: q.node_type, limit: q.limit, tenant: q.tenant_id })),
});

const graphPageRoute = route({
  method: 'get',
  pattern: `${prime}/graph.html`,
  operation: 'graph_html',
  parse: () => undefined,
  run: () => new RawResult('text/html; charset=utf-8', graphPage),
});

// ---- events ----

const appendEvents = route({
  method: 'post',
  pattern: '/api/v1/events',
  operation: 'events.append',
  body: 'events',
  parse: (r) => {
    const body = bodyOf<unknown[] | { events: unknown[] }>(r, eventsRequest);
    return Array.isArray(body) ? body : body.events;
  },
  run: ({ engine }, events) => engine.append(events),
});

const memoryIndex = route({
  method: 'get',
  pattern: `${prime}/index`,
  operation: 'index',
  parse: (r) => queryOf<{ max_tokens?: number }>(r, indexQuery),
  run: ({ engine }, q) => engine.memoryIndex(withoutUndefined({ maxTokens: q.max_tokens })),
});

const promptContext = route({
  method: 'post',
  pattern: `${prime}/context`,
  operation: 'context',
  body: 'json',
  parse: (r) => {
    const body = bodyOf<{ query?: string; text?: string; max_tokens?: number; top_k?: number }>(r, contextRequest);
    const query = body.query ?? body.text;
    if (query === undefined || query.trim() === '') throw invalid('query', 'expected a non-empty string');
    return { query, options: withoutUndefined({ maxTokens: body.max_tokens, topK: body.top_k }) };
  },
  run: ({ engine }, { query, options }) => engine.promptContext(query, options),
});

export const routes: readonly Route[] = [
  createNode,
  getNode,
  updateNode,
  deleteNode,
  neighbors,
  subgraph,
  history,
  createEdge,
  deleteEdge,
  storeVector,
  searchVectors,
  deleteVector,
  shortestPath,
  recall,
  search,
  crossDomain,
  stats,
  diff,
  graph,
  graphPageRoute,
  appendEvents,
  memoryIndex,
  promptContext,
];
