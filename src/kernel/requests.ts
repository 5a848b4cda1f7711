// Every HTTP route's and MCP tool's input, as zod schemas both surfaces share, so a bad value gets
// the same message whichever way it arrived. Names are the wire's (snake_case), and where AllSource
// Prime spells a field differently both spellings are accepted (`node_type` beside `type`,
// `incoming`/`outgoing` beside `in`/`out`). Objects are strict: a field neither mnemo nor Prime
// knows is refused, naming it, instead of being dropped. Limits come from limits.ts. Every field
// carries a description: MCP clients show them to the agent.
//
// A failed parse is one VALIDATION_FAILED naming the field as the client spelled it and the reason.

import { z } from 'zod';
import { isMnemoError, mnemoError, MnemoError } from './errors.js';
import { eventBytesMax, graphNodesMax, idCharsMax, queryTextCharsMax, pageLimitMax, pageOffsetMax, indexTokensDefault, indexTokensMax, indexTokensMin, peerDeadlineMsMax, peersMax, relationCharsMax, topKMax, traversalDepthMax, typeCharsMax, vectorDimMax } from './limits.js';

// ---- how values are shown in messages ----

/** A client's value echoed in a message: quoted, and short. */
export function shown(value: unknown): string {
  // String, not JSON, for numbers: NaN and Infinity (a JSON 1e999 parses to Infinity) show as themselves, not as null.
  const text = typeof value === 'string' ? `'${value}'` : typeof value === 'number' ? String(value) : (JSON.stringify(value) ?? String(value));
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}

/** The type of a value as a client would name it, with the value when it is short. */
export function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${shown(value)}`;
}

export function invalid(field: string, reason: string): MnemoError<'VALIDATION_FAILED'> {
  return mnemoError('VALIDATION_FAILED', { field, reason });
}

// ---- building blocks (JSON bodies and MCP arguments) ----

/** A stored text can be no longer than one event may encode to. */
const text = (description: string, max = eventBytesMax) =>
  z.string({ error: (issue) => `expected a string, got ${describe(issue.input)}` }).max(max, { error: (issue) => `is ${String(issue.input).length} chars; the limit is ${max}` }).describe(description);

const required = (description: string, max: number) =>
  z
    .string({ error: (issue) => `expected a non-empty string, got ${describe(issue.input)}` })
    .min(1, { error: 'expected a non-empty string, got an empty one' })
    .max(max, { error: (issue) => `is ${String(issue.input).length} chars; the limit is ${max}` })
    .describe(description);

const intIn = (min: number, max: number, description: string) =>
  z
    .number({ error: (issue) => `expected an integer ${min}..${max}, got ${describe(issue.input)}` })
    .int()
    .min(min)
    .max(max)
    .describe(description);

const finite = (description: string) => z.number({ error: (issue) => notFinite(issue.input) }).describe(description);

const jsonObject = (description: string) =>
  z.record(z.string(), z.unknown(), { error: (issue) => `expected an object, got ${describe(issue.input)}` }).describe(description);

/** A vector's messages, shared by its schema and checkVector. */
const vectorNotArray = (value: unknown): string => `expected a non-empty array of numbers, got ${describe(value)}`;
const vectorEmpty = 'expected a non-empty array of numbers, got an empty one';
const vectorTooLong = (length: number): string => `has ${length} dimensions; the limit is ${vectorDimMax}`;
const notFinite = (value: unknown): string => `expected a finite number, got ${describe(value)}`;

const vector = (description: string) =>
  z
    .array(finite('one component'), { error: (issue) => vectorNotArray(issue.input) })
    .min(1, { error: vectorEmpty })
    .max(vectorDimMax, { error: (issue) => vectorTooLong((issue.input as unknown[]).length) })
    .describe(description);

/**
 * What the `vector` schema checks, by hand: a plain loop instead of zod's per-element parse (which
 * cost several µs a 64-dim search, a tenth of the request). Throws the schema's message, naming
 * `field` or the component (`vector[3]`).
 */
export function checkVector(value: unknown, field: string): void {
  if (!Array.isArray(value)) throw invalid(field, vectorNotArray(value));
  if (value.length === 0) throw invalid(field, vectorEmpty);
  if (value.length > vectorDimMax) throw invalid(field, vectorTooLong(value.length));
  for (let i = 0; i < value.length; i++) {
    const x: unknown = value[i];
    if (typeof x !== 'number' || !Number.isFinite(x)) throw invalid(`${field}[${i}]`, notFinite(x));
  }
}

/** Mnemo's direction names and Prime's. */
export const directionNames = ['out', 'in', 'both', 'outgoing', 'incoming'] as const;
const direction = z
  .enum(directionNames, { error: (issue) => `expected 'out', 'in' or 'both', got ${shown(issue.input)}` })
  .describe("Edge direction: 'out' (or 'outgoing'), 'in' (or 'incoming'), 'both'");

const fields = z
  .enum(['summary', 'full'], { error: (issue) => `expected 'summary' or 'full', got ${shown(issue.input)}` })
  .describe("'summary': each row is {id, type, name, at}; 'full': every field and property");

/** A strict object: an unknown field is refused by name (see parseInput). */
const body = <S extends z.ZodRawShape>(shape: S) => z.strictObject(shape, { error: (issue) => `expected a JSON object, got ${describe(issue.input)}` });

const nodeId = (description: string) => required(description, idCharsMax);
const nodeType = (description: string) => required(description, typeCharsMax);
const asOfDescription = "A point in history: a seq (integer) or an ISO-8601 time; the answer is the state right after it";

// ---- the inputs ----

/** POST /nodes, prime_add_node. One of `type` / `node_type` (Prime's name) is required. */
export const createNodeRequest = body({
  type: nodeType("The node's type, [a-z0-9_.-]: 'person', 'concept', 'project', 'decision'…").optional(),
  node_type: nodeType("Prime's name for 'type'").optional(),
  properties: jsonObject("The node's data, e.g. {\"name\": \"Alice\", \"domain\": \"engineering\"}; 'domain' groups nodes for cross-domain queries (default: the type)").optional(),
  id: nodeId('An id of your choosing (default: node:{type}:{uuid})').optional(),
});

/** PATCH /nodes/:id. */
export const updateNodeRequest = body({
  properties: jsonObject('Properties to set, merged shallowly into the node; a key set to null is removed'),
});

/** POST /edges, prime_add_edge. */
export const createEdgeRequest = body({
  source: nodeId('Source node id (the entity_id returned when it was created)'),
  target: nodeId('Target node id'),
  relation: required("Relationship: 'works_on', 'depends_on', 'causes'…", relationCharsMax),
  weight: finite('Optional confidence or strength, e.g. 0.0-1.0 (default 1)').optional(),
  properties: jsonObject('Optional edge properties, e.g. {"since": "2026-01"}').optional(),
  id: nodeId('An id of your choosing (default: edge:{uuid})').optional(),
});

/** POST /vectors, prime_embed. */
export const storeVectorRequest = body({
  id: nodeId('Id the vector belongs to, usually a node id'),
  vector: vector('The embedding; every vector of a data dir has the dimension of the first one stored').optional(),
  text: text('Source text: shown in search results and indexed for text recall').optional(),
  metadata: jsonObject('Optional tags, source URL, confidence…').optional(),
});

/** The part of recall and vector search a federation or deadline option would join. */
const topK = (fallback: number) => intIn(1, topKMax, `How many results (default ${fallback})`);
/** Federation: which peers to ask as well, and how long to wait for them (docs/federation.md). */
const federation = {
  peers: z
    .union([z.boolean(), z.array(z.string().min(1).max(idCharsMax)).max(peersMax)])
    .optional()
    .describe('Also ask these peers (true: every configured peer); results merged by rank, each with its origin'),
  deadline_ms: intIn(1, peerDeadlineMsMax, 'How long to wait for peers (and slow local work), ms (default 250); past it the answer says degraded').optional(),
};

/** POST /vectors/search. Exactly one of vector, id (text needs an embedder). Federation's options join here and in recall. */
export const vectorSearchRequest = body({
  vector: vector('Query embedding').optional(),
  id: nodeId('Search near the vector stored under this id (the id itself is left out)').optional(),
  text: text('Query text; needs a server-side embedder', queryTextCharsMax).optional(),
  top_k: topK(10).optional(),
  type: nodeType('Only nodes of this type').optional(),
  node_type: nodeType("Prime's name for 'type'").optional(),
  ...federation,
});

/** prime_similar. */
export const similarRequest = body({
  id: nodeId('Id of an embedded node to find similar items for').optional(),
  vector: vector('Or a query embedding').optional(),
  text: text("Or a query text (needs the server's embedder)", queryTextCharsMax).optional(),
  top_k: topK(5).optional(),
});

/** POST /context (prime_context): the memory index and recall hits for a question. */
export const contextRequest = body({
  query: text('The question to gather context for', queryTextCharsMax).optional(),
  text: text("Another name for 'query'", queryTextCharsMax).optional(),
  max_tokens: intIn(indexTokensMin, indexTokensMax, 'Token budget (estimated)').optional(),
  top_k: topK(10).optional(),
});

/** POST /shortest-path, prime_shortest_path. */
export const shortestPathRequest = body({
  from: nodeId('Start node id'),
  to: nodeId('End node id'),
  relation: required('Only follow edges of this relation', relationCharsMax).optional(),
  direction: direction.optional(),
});

/** POST /recall, prime_recall. */
export const recallRequest = body({
  text: text('Natural-language query (BM25 over node properties and vector texts)', queryTextCharsMax).optional(),
  vector: vector('Query embedding, for semantic recall').optional(),
  type: nodeType('Only nodes of this type').optional(),
  node_type: nodeType("Only nodes of this type (Prime's name); alone, the newest nodes of the type").optional(),
  tenant_id: text("Only nodes whose properties.tenant_id is this", idCharsMax).optional(),
  depth: intIn(0, traversalDepthMax, 'Graph hops to expand from the matches (0 = matches only, default 1)').optional(),
  top_k: topK(10).optional(),
  fields: fields.optional(),
  ...federation,
});

/** prime_neighbors (MCP arguments; HTTP takes the same as query parameters). */
export const neighborsArguments = body({
  node_id: nodeId('Starting node id'),
  relation: required('Only edges of this relation', relationCharsMax).optional(),
  direction: direction.optional(),
  depth: intIn(1, traversalDepthMax, 'Hops: 1 = immediate neighbours (default), 2+ = multi-hop').optional(),
  limit: intIn(1, pageLimitMax, `Rows to return (default 50, max ${pageLimitMax})`).optional(),
  offset: intIn(0, pageOffsetMax, "Rows to skip: the 'next_offset' of the previous call").optional(),
  fields: fields.optional(),
});

/** prime_search. */
export const searchArguments = body({
  type: nodeType('Node type to list'),
  limit: intIn(1, pageLimitMax, `Rows to return (default 50, max ${pageLimitMax})`).optional(),
  offset: intIn(0, pageOffsetMax, "Rows to skip: the 'next_offset' of the previous call").optional(),
  fields: fields.optional(),
});

export const forgetArguments = body({ node_id: nodeId('Id of the node to forget (its edges and vector go too; its history stays)') });
export const historyArguments = body({ entity_id: nodeId('Any id: node, edge or vector') });
export const noArguments = body({});
export const asOfArguments = body({
  node_id: nodeId('Node id'),
  as_of: z.union([intIn(0, Number.MAX_SAFE_INTEGER, 'a seq'), required('an ISO-8601 time', 64)], { error: (issue) => `expected a seq or an ISO-8601 time, got ${describe(issue.input)}` }).describe(asOfDescription),
});

/** POST /api/v1/events: an array, or {events: [...]}; the engine checks each event. */
export const eventsRequest = z.union([z.array(z.unknown()), z.strictObject({ events: z.array(z.unknown()) })], {
  error: () => 'expected an array of events or {"events": [...]}',
});

// ---- query parameters (HTTP) ----

const queryText = (description: string) => z.string().describe(description);
const queryRequired = (description: string) => z.string({ error: 'required query parameter is missing' }).min(1, { error: 'required query parameter is missing' }).describe(description);

const queryInt = (min: number, max: number, description: string) =>
  z
    .string()
    .transform((raw, context) => {
      const value = /^-?\d{1,16}$/.test(raw) ? Number(raw) : NaN;
      if (Number.isSafeInteger(value) && value >= min && value <= max) return value;
      context.addIssue({ code: 'custom', message: `expected an integer ${min}..${max}, got ${shown(raw)}` });
      return z.NEVER;
    })
    .describe(description);

const asOf = z
  .string()
  .transform((raw, context): number | string => {
    if (/^\d{1,16}$/.test(raw)) return Number(raw);
    if (/^\d{4}-\d{2}-\d{2}/.test(raw) && !Number.isNaN(Date.parse(raw))) return raw;
    context.addIssue({ code: 'custom', message: `expected a seq or an ISO-8601 time, got ${shown(raw)}` });
    return z.NEVER;
  })
  .describe(asOfDescription);

const queryDirection = z
  .string()
  .refine((raw) => (directionNames as readonly string[]).includes(raw), { error: (issue) => `expected 'out', 'in' or 'both', got ${shown(issue.input)}` })
  .describe("'out' (or 'outgoing'), 'in' (or 'incoming'), 'both'");

const query = <S extends z.ZodRawShape>(shape: S) => z.strictObject(shape);

const page = {
  limit: queryInt(1, pageLimitMax, `Rows to return (max ${pageLimitMax})`).optional(),
  offset: queryInt(0, pageOffsetMax, 'Rows to skip').optional(),
};

export const getNodeQuery = query({ as_of: asOf.optional() });
/** GET /index (prime_index): the memory index within a token budget. */
export const indexQuery = query({ max_tokens: queryInt(indexTokensMin, indexTokensMax, `Token budget (estimated; default ${indexTokensDefault})`).optional() });
export const neighborsQuery = query({
  relation: queryText('Only edges of this relation').optional(),
  direction: queryDirection.optional(),
  depth: queryInt(1, traversalDepthMax, 'Hops').optional(),
  ...page,
  as_of: asOf.optional(),
  deadline_ms: queryInt(1, peerDeadlineMsMax, 'Stop a deeper walk after this many ms (the answer says degraded)').optional(),
});
export const subgraphQuery = query({
  depth: queryInt(1, traversalDepthMax, 'Hops (default 2)').optional(),
  deadline_ms: queryInt(1, peerDeadlineMsMax, 'Stop the walk after this many ms (the answer says degraded)').optional(),
});
export const searchQuery = query({
  type: queryText('A domain to list (properties.domain, else the type)').optional(),
  node_type: queryText('A node type to list').optional(),
  ...page,
});
export const crossDomainQuery = query({ a: queryRequired('One domain'), b: queryRequired('The other domain'), ...page });
export const diffQuery = query({ from: asOf.optional(), to: asOf.optional() });
export const graphQuery = query({
  node_type: queryText('Only nodes of this type').optional(),
  limit: queryInt(1, graphNodesMax, 'Most nodes to return').optional(),
  tenant_id: queryText('Only nodes whose properties.tenant_id is this').optional(),
});
export const noQuery = query({});

// ---- parsing ----

/**
 * Parses `input` against `schema`; the first problem becomes a VALIDATION_FAILED naming the field
 * (`root` when the value itself is wrong: 'body' for HTTP, 'arguments' for MCP).
 */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown, root: string): z.output<S> {
  if (typeof input === 'object' && input !== null && (input as { vector?: unknown }).vector !== undefined) {
    const byHand = vectorByHand(schema);
    if (byHand !== null) return parseCheckingVectorByHand(schema, byHand, input as { vector: unknown }, root) as z.output<S>;
  }
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw issueError(result.error.issues[0]!, root, schema);
}

function issueError(issue: z.core.$ZodIssue, root: string, schema: z.ZodType): MnemoError {
  if (issue.code === 'unrecognized_keys') return unknownFields(issue.keys, pathOf(issue.path, root), schema);
  // Nesting too deep inside properties is the engine's check; here only shape and range.
  return invalid(pathOf(issue.path, root), issue.message);
}

/** An object schema with a `vector` field, and the same schema taking any `vector` (checked by checkVector instead). */
interface VectorByHand {
  schema: z.ZodType;
  /** Where `vector` comes in the schema's field order, which is the order zod reports problems in. */
  fieldsBeforeVector: ReadonlySet<string>;
}

const vectorByHandOf = new WeakMap<z.ZodType, VectorByHand | null>();

function vectorByHand(schema: z.ZodType): VectorByHand | null {
  let byHand = vectorByHandOf.get(schema);
  if (byHand === undefined) {
    const shape = (schema as unknown as { shape?: Record<string, unknown> }).shape;
    const fields = shape === undefined ? [] : Object.keys(shape);
    const at = fields.indexOf('vector');
    byHand = at < 0 ? null : { schema: (schema as unknown as z.ZodObject).extend({ vector: z.any() }), fieldsBeforeVector: new Set(fields.slice(0, at)) };
    vectorByHandOf.set(schema, byHand);
  }
  return byHand;
}

/**
 * parseInput with the vector checked by hand: the same answer and, when several fields are wrong,
 * the same first problem zod would report (fields in schema order, unknown fields last).
 */
function parseCheckingVectorByHand(schema: z.ZodType, byHand: VectorByHand, input: { vector: unknown }, root: string): unknown {
  const field = pathOf(['vector'], root);
  const result = byHand.schema.safeParse(input);
  if (result.success) {
    checkVector(input.vector, field);
    return result.data;
  }
  const issue = result.error.issues[0]!;
  if (issue.code === 'unrecognized_keys' || !byHand.fieldsBeforeVector.has(String(issue.path[0]))) checkVector(input.vector, field);
  throw issueError(issue, root, schema);
}

/** URLSearchParams as a plain object for a query schema (a repeated name: the last one). */
export function queryObject(search: URLSearchParams): Record<string, string> {
  const out: Record<string, string> = {};
  search.forEach((value, key) => (out[key] = value));
  return out;
}

function pathOf(path: readonly PropertyKey[], root: string): string {
  if (path.length === 0) return root;
  let out = '';
  for (const key of path) out += typeof key === 'number' ? `[${key}]` : `${out === '' ? '' : '.'}${String(key)}`;
  return out;
}

function unknownFields(keys: readonly string[], where: string, schema: z.ZodType): MnemoError {
  const known = knownFields(schema);
  const hint = known.includes('properties') ? "; a node's or edge's own data goes in 'properties'" : '';
  const noun = where === 'query' ? 'query parameter' : 'field';
  const inside = where === 'body' || where === 'arguments' || where === 'query' ? '' : ` in ${where}`;
  const reason = `unknown ${noun}${keys.length === 1 ? '' : 's'}${inside}; expected ${known.length === 0 ? 'none' : known.join(', ')}${hint}`;
  return invalid(keys.join(', '), reason);
}

/** The fields an object schema (or a union's object options) takes. */
function knownFields(schema: z.ZodType): string[] {
  const { shape, options } = schema as unknown as { shape?: Record<string, unknown>; options?: z.ZodType[] };
  if (shape !== undefined) return Object.keys(shape);
  return options === undefined ? [] : options.flatMap(knownFields);
}

/** JSON Schema of an input, for MCP's tools/list (the input side: what a client sends). */
export function jsonSchemaOf(schema: z.ZodType): Record<string, unknown> {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  delete json.$schema;
  return json;
}

/**
 * A single-event request answers in its own fields: the engine names `events[0].payload.target`,
 * the client sent `target`. `pathId` names the event field the path carries: a missing one there
 * is the path's 404, not a body field's 400.
 */
export async function inRequestFields<T>(work: Promise<T>, pathId?: string): Promise<T> {
  try {
    return await work;
  } catch (e) {
    throw asRequestError(e, pathId);
  }
}

const eventField = /^events\[0\]\.payload\.?/;

function asRequestError(e: unknown, pathId: string | undefined): unknown {
  if (!isMnemoError(e)) return e;
  const field = (e.details as { field?: string }).field;
  if (field === undefined || !eventField.test(field)) return e;
  const own = field.replace(eventField, '');
  const details = { ...(e.details as object) } as { field?: string };
  if (own === pathId) delete details.field;
  else details.field = own === '' ? 'body' : own;
  return new MnemoError(e.code, details as never, { cause: e });
}

