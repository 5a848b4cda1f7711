// Every HTTP route (SPEC.md, HTTP) as data: method, pattern, how to read its input (parse)
// and which engine call answers it (run). The server times the two separately for
// Server-Timing, converts the result to snake_case, and mirrors routes marked `peer` under
// /peer (read-only). Results are returned in the engine's camelCase.

import { MnemoError, limits, type MnemoEngine, type NodeRecord } from '../index.js';
import {
  asOfValue,
  bodyObject,
  invalid,
  optionalDirection,
  optionalInt,
  optionalNumber,
  optionalObject,
  optionalString,
  optionalVector,
  pathParam,
  queryAsOf,
  queryDirection,
  queryInt,
  queryString,
  requiredQueryString,
  requiredString,
  type Body,
} from './input.js';
import type { JsonValue } from '../index.js';
import { RawResult } from '../kernel/wire.js';
import { withWordsRoutes } from './words-routes.js';

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

export type BodyKind = 'json' | 'events';

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

function json(request: RouteRequest): Body {
  return bodyObject(request.body);
}

function pageQuery(query: URLSearchParams): { limit?: number; offset?: number } {
  return {
    limit: queryInt(query, 'limit', 1, limits.pageLimitMax),
    offset: queryInt(query, 'offset', 0, Number.MAX_SAFE_INTEGER),
  };
}

function nodeOrNotFound(node: NodeRecord | null, id: string): NodeRecord {
  if (node === null) throw new MnemoError('NODE_NOT_FOUND', { id });
  return node;
}

// ---- nodes ----

const createNode = route({
  method: 'post',
  pattern: `${prime}/nodes`,
  operation: 'nodes.create',
  body: 'json',
  created: true,
  parse: (r) => {
    const body = json(r);
    return { type: requiredString(body, 'type'), properties: optionalObject<Properties>(body, 'properties'), id: optionalString(body, 'id') };
  },
  run: async ({ engine }, input) => {
    const { nodeId } = await engine.addNode(input);
    // Prime answers with both names for the same id.
    return { nodeId, entityId: nodeId };
  },
});

const getNode = route({
  method: 'get',
  pattern: `${prime}/nodes/:id`,
  operation: 'nodes.get',
  peer: true,
  parse: (r) => ({ id: id(r), asOf: queryAsOf(r.query) }),
  run: ({ engine }, { id, asOf }) => nodeOrNotFound(engine.getNode(id, asOf === undefined ? undefined : { asOf }), id),
});

const updateNode = route({
  method: 'patch',
  pattern: `${prime}/nodes/:id`,
  operation: 'nodes.update',
  body: 'json',
  parse: (r) => {
    const properties = optionalObject<Properties>(json(r), 'properties');
    if (properties === undefined) throw invalid('properties', 'expected an object of properties to set (null removes a key), got nothing');
    return { id: id(r), properties };
  },
  run: async ({ engine }, { id, properties }) => {
    await engine.updateNode(id, properties);
    return nodeOrNotFound(engine.getNode(id), id);
  },
});

const deleteNode = route({
  method: 'del',
  pattern: `${prime}/nodes/:id`,
  operation: 'nodes.delete',
  parse: (r) => id(r),
  run: async ({ engine }, id) => {
    await engine.deleteNode(id);
    return { deleted: true, id };
  },
});

const neighbors = route({
  method: 'get',
  pattern: `${prime}/nodes/:id/neighbors`,
  operation: 'nodes.neighbors',
  peer: true,
  parse: (r) => ({
    id: id(r),
    options: {
      relation: queryString(r.query, 'relation'),
      direction: queryDirection(r.query),
      depth: queryInt(r.query, 'depth', 1, limits.traversalDepthMax),
      ...pageQuery(r.query),
      asOf: queryAsOf(r.query),
    },
  }),
  run: ({ engine }, { id, options }) => engine.neighbors(id, withoutUndefined(options)),
});

const subgraph = route({
  method: 'get',
  pattern: `${prime}/nodes/:id/subgraph`,
  operation: 'nodes.subgraph',
  peer: true,
  parse: (r) => ({ id: id(r), depth: queryInt(r.query, 'depth', 1, limits.traversalDepthMax) }),
  run: ({ engine }, { id, depth }) => engine.subgraph(id, withoutUndefined({ depth })),
});

const history = route({
  method: 'get',
  pattern: `${prime}/nodes/:id/history`,
  operation: 'nodes.history',
  parse: (r) => id(r),
  run: ({ engine }, id) => ({
    events: engine.history(id).map((e) => ({ seq: e.seq, ts: e.ts, type: e.type, payload: e.payload })),
  }),
});

// ---- edges ----

const createEdge = route({
  method: 'post',
  pattern: `${prime}/edges`,
  operation: 'edges.create',
  body: 'json',
  created: true,
  parse: (r) => {
    const body = json(r);
    return withoutUndefined({
      source: requiredString(body, 'source'),
      target: requiredString(body, 'target'),
      relation: requiredString(body, 'relation'),
      weight: optionalNumber(body, 'weight'),
      properties: optionalObject<Properties>(body, 'properties'),
      id: optionalString(body, 'id'),
    });
  },
  run: async ({ engine }, input) => ({ edgeId: (await engine.addEdge(input)).edgeId }),
});

const deleteEdge = route({
  method: 'del',
  pattern: `${prime}/edges/:id`,
  operation: 'edges.delete',
  parse: (r) => id(r),
  run: async ({ engine }, id) => {
    await engine.deleteEdge(id);
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
    const body = json(r);
    const input = withoutUndefined({
      id: requiredString(body, 'id'),
      vector: optionalVector(body, 'vector'),
      text: optionalString(body, 'text'),
      metadata: optionalObject<Properties>(body, 'metadata'),
    });
    return input;
  },
  run: async ({ engine }, input) => {
    await engine.embed(input);
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
    const body = json(r);
    const vector = optionalVector(body, 'vector');
    const byId = optionalString(body, 'id');
    if ((vector === undefined) === (byId === undefined)) throw invalid('vector', "give exactly one of 'vector' or 'id'");
    const options = withoutUndefined({ topK: optionalInt(body, 'top_k', 1, limits.topKMax), type: optionalString(body, 'type') });
    return { query: vector !== undefined ? { vector } : { id: byId! }, options };
  },
  run: ({ engine }, { query, options }) => ({ results: engine.similar(query, options) }),
});

const deleteVector = route({
  method: 'del',
  pattern: `${prime}/vectors/:id`,
  operation: 'vectors.delete',
  parse: (r) => id(r),
  run: async ({ engine }, id) => {
    await engine.deleteVector(id);
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
    const body = json(r);
    return {
      from: requiredString(body, 'from'),
      to: requiredString(body, 'to'),
      options: withoutUndefined({ relation: optionalString(body, 'relation'), direction: optionalDirection(body) }),
    };
  },
  run: ({ engine }, { from, to, options }) => {
    const path = engine.shortestPath(from, to, options);
    return { found: path !== null, path, hops: path === null ? null : path.length - 1 };
  },
});

const recall = route({
  method: 'post',
  pattern: `${prime}/recall`,
  operation: 'recall',
  peer: true,
  body: 'json',
  parse: (r) => {
    const body = json(r);
    const options = withoutUndefined({
      vector: optionalVector(body, 'vector'),
      text: optionalString(body, 'text'),
      type: optionalString(body, 'type'),
      depth: optionalInt(body, 'depth', 0, limits.traversalDepthMax),
      topK: optionalInt(body, 'top_k', 1, limits.topKMax),
    });
    if (options.vector === undefined && options.text === undefined) throw invalid('vector', "give 'vector' or 'text' to recall from");
    return options;
  },
  run: ({ engine }, options) => ({ results: engine.recall(options) }),
});

const search = route({
  method: 'get',
  pattern: `${prime}/search`,
  operation: 'search',
  peer: true,
  parse: (r) => withoutUndefined({ type: requiredQueryString(r.query, 'type'), ...pageQuery(r.query) }),
  run: ({ engine }, options) => engine.search(options),
});

const crossDomain = route({
  method: 'get',
  pattern: `${prime}/cross-domain`,
  operation: 'cross_domain',
  parse: (r) => ({ a: requiredQueryString(r.query, 'a'), b: requiredQueryString(r.query, 'b'), page: withoutUndefined(pageQuery(r.query)) }),
  run: ({ engine }, { a, b, page }) => engine.crossDomain(a, b, page),
});

const stats = route({
  method: 'get',
  pattern: `${prime}/stats`,
  operation: 'stats',
  peer: true,
  parse: () => undefined,
  run: ({ engine, serverStats }) => ({ ...engine.stats(), ...serverStats() }),
});

const diff = route({
  method: 'get',
  pattern: `${prime}/diff`,
  operation: 'diff',
  parse: (r) => ({ from: asOfValue(requiredQueryString(r.query, 'from'), 'from'), to: asOfValue(requiredQueryString(r.query, 'to'), 'to') }),
  run: ({ engine }, { from, to }) => engine.diff(from, to),
});

// ---- events ----

const appendEvents = route({
  method: 'post',
  pattern: '/api/v1/events',
  operation: 'events.append',
  body: 'events',
  parse: (r) => {
    const body = r.body;
    if (Array.isArray(body)) return body;
    if (typeof body === 'object' && body !== null && Array.isArray((body as Body).events)) return (body as Body).events as unknown[];
    throw invalid('body', "expected an array of events or {\"events\": [...]}");
  },
  run: ({ engine }, events) => engine.append(events),
});

export const routes: readonly Route[] = withWordsRoutes([
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
  appendEvents,
]);

/** Drops keys whose value is undefined, so engine defaults apply (exactOptional-friendly). */
function withoutUndefined<T extends Record<string, unknown>>(value: T): T {
  for (const key of Object.keys(value)) if (value[key] === undefined) delete value[key];
  return value;
}

