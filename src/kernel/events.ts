// The kernel: event types, the envelope, and validation. Imports nothing of ours but the kernel.

import { randomUUID } from 'node:crypto';
import { mnemoError, type MnemoError } from './errors.js';
import { batchEventsMax, idCharsMax, propertiesDepthMax, relationCharsMax, typeCharsMax, vectorDimMax } from './limits.js';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type Properties = Record<string, JsonValue>;

export interface NodeCreated { id: string; type: string; properties: Properties }
export interface NodeUpdated { id: string; properties: Properties }
export interface NodeDeleted { id: string }
export interface EdgeCreated { id: string; source: string; target: string; relation: string; weight?: number; properties?: Properties }
export interface EdgeDeleted { id: string }
/** Without a vector (text only: no embedder configured), it replaces any vector stored under the id with just the text. */
export interface VectorStored { id: string; vector?: number[] | Float32Array; text?: string; metadata?: Properties }
export interface VectorDeleted { id: string }

export interface PayloadByType {
  'prime.node.created': NodeCreated;
  'prime.node.updated': NodeUpdated;
  'prime.node.deleted': NodeDeleted;
  'prime.edge.created': EdgeCreated;
  'prime.edge.deleted': EdgeDeleted;
  'prime.vector.stored': VectorStored;
  'prime.vector.deleted': VectorDeleted;
}

export type EventType = keyof PayloadByType;

export const eventTypes: readonly EventType[] = [
  'prime.node.created',
  'prime.node.updated',
  'prime.node.deleted',
  'prime.edge.created',
  'prime.edge.deleted',
  'prime.vector.stored',
  'prime.vector.deleted',
];

/** A raw event as callers give it to `append`. */
export type RawEvent = { [T in EventType]: { type: T; payload: PayloadByType[T] } }[EventType];

/** An event as the log stores it: the raw event plus the envelope the engine adds at append. */
export type StoredEvent = RawEvent & {
  /** 1, 2, 3 … gap-free per data dir. */
  seq: number;
  /** Milliseconds since the epoch, taken at append. */
  ts: number;
  /** Replicated mode: the writer's origin name. */
  origin?: string;
  /** Replicated mode: the writer's hybrid logical clock (18 hex chars: wall ms, counter), ordered with `origin` as the tie-break. */
  hlc?: string;
};


// ---------------------------------------------------------------------------------------------
// Validation, normalisation and cascade expansion.
//
// `prepareBatch` is on every append's path (target: the engine ingests ≥ 200K events/s on 2 cores),
// so it costs about a microsecond per simple event: no JSON.stringify, no closures per event, and
// error messages (which do allocate) are built only when a check has already failed.

/** What validation needs to know about current state (the engine implements it over the projections). */
export interface StateView {
  hasNode(id: string): boolean;
  nodeType(id: string): string | undefined;
  hasEdge(id: string): boolean;
  /** ids of every live edge touching the node (in or out, self-loops once); empty for an unknown node. */
  edgeIdsOf(nodeId: string): Iterable<string>;
  hasVector(id: string): boolean;
  /** Vector dimension fixed for this data dir, or undefined before the first vector. */
  vectorDim(): number | undefined;
}

export interface PrepareOptions {
  /** The dimension the first vector must have when the data dir has none yet (the engine's `vector.dim` option). */
  dimDefault?: number;
  /**
   * Events received from another origin (replicated mode): checked for shape and limits only, ids
   * required, no existence checks and no cascades. Whether a node exists is the merge rules'
   * question, and the origin's own cascade events come in its stream.
   */
  received?: boolean;
}

/**
 * The properties of everything that has none: one frozen object, not a new one per event or per
 * stored node (an empty object costs 56 bytes, and most edges have no properties).
 */
export const noProperties: Properties = Object.freeze({});

/** Whether the object has no enumerable key (without allocating a key array). */
export function isEmpty(object: object): boolean {
  for (const _ in object) return false;
  return true;
}

/** A node's domain: `properties.domain` when it is a non-empty string, else its type. */
export function domainOf(type: string, properties: Properties): string {
  const domain = properties['domain'];
  return typeof domain === 'string' && domain.length > 0 ? domain : type;
}

/** A node's domain after a `prime.node.updated` with `changes` (null removes a key): unchanged unless `changes` touches `domain`. */
export function domainAfterUpdate(type: string, domain: string, changes: Properties): string {
  if (!Object.hasOwn(changes, 'domain')) return domain;
  const next = changes['domain'];
  return typeof next === 'string' && next.length > 0 ? next : type;
}

const nodeTypePattern = /^[a-z0-9_.-]+$/;
/** `node:` + type + `:` + a 36-char uuid: a generated node id fits idCharsMax only for types up to this length. */
const generatedNodeIdOverheadChars = 'node:'.length + ':'.length + 36;

/**
 * A vector of the wrong dimension: why the dimension is fixed, and what to do, since the usual
 * cause is a changed embedding model.
 */
export function dimensionMismatch(expected: number, got: number): string {
  return `expected ${expected} dimensions, got ${got}: a data dir's vector dimension is fixed by its first vector (or the vector.dim option); embed with the same model, or start a new data dir (--data-dir) for another`;
}

function invalid(index: number, field: string, reason: string): MnemoError {
  return mnemoError('VALIDATION_FAILED', { field: `events[${index}]${field}`, reason });
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return value.constructor?.name ? `a ${value.constructor.name}` : 'an object';
  if (typeof value === 'string') return `a string of ${value.length} chars`;
  return `${typeof value} ${String(value)}`;
}

/** The batch's own effects, consulted before the view so later events see earlier ones. */
class BatchOverlay {
  /** node id → live after the events seen so far. */
  readonly nodes = new Map<string, boolean>();
  /** edge id → its latest state in this batch; `deadEdge` for a pre-batch edge deleted here. */
  readonly edges = new Map<string, BatchEdge>();
  /** Edges created in this batch, in order. */
  readonly createdEdges: BatchEdge[] = [];
  /**
   * node id → edges created in this batch touching it (self-loops once), for the delete cascade. Built on
   * the first node deletion in the batch and maintained from then on: most batches delete no node, and
   * indexing every created edge by both ends would double the cost of an edge-heavy batch.
   */
  private edgesByNode: Map<string, BatchEdge[]> | undefined;
  /** vector id → live after the events seen so far. */
  readonly vectors = new Map<string, boolean>();
  dim: number | undefined;

  constructor(readonly view: StateView, dimDefault: number | undefined, readonly received: boolean) {
    this.dim = view.vectorDim() ?? dimDefault;
  }

  hasNode(id: string): boolean {
    return this.nodes.get(id) ?? this.view.hasNode(id);
  }

  hasEdge(id: string): boolean {
    const edge = this.edges.get(id);
    return edge === undefined ? this.view.hasEdge(id) : edge.live;
  }

  hasVector(id: string): boolean {
    return this.vectors.get(id) ?? this.view.hasVector(id);
  }

  addEdge(edge: BatchEdge): void {
    this.edges.set(edge.id, edge);
    this.createdEdges.push(edge);
    if (this.edgesByNode !== undefined) this.indexEdge(edge);
  }

  /** Edges created in this batch that touch the node, live or not. */
  createdEdgesOf(nodeId: string): BatchEdge[] | undefined {
    if (this.createdEdges.length === 0) return undefined;
    if (this.edgesByNode === undefined) {
      this.edgesByNode = new Map();
      for (const edge of this.createdEdges) this.indexEdge(edge);
    }
    return this.edgesByNode.get(nodeId);
  }

  private indexEdge(edge: BatchEdge): void {
    this.linkEdge(edge.source, edge);
    if (edge.target !== edge.source) this.linkEdge(edge.target, edge);
  }

  private linkEdge(nodeId: string, edge: BatchEdge): void {
    const list = this.edgesByNode!.get(nodeId);
    if (list === undefined) this.edgesByNode!.set(nodeId, [edge]);
    else list.push(edge);
  }
}

interface BatchEdge { id: string; source: string; target: string; live: boolean }
const deadEdge: BatchEdge = { id: '', source: '', target: '', live: false };

/** Where a JSON value being checked sits, for the error message; one per batch, reused. */
class JsonPath {
  index = 0;
  base = '';
  readonly keys: Array<string | number> = [];

  fail(key: string | number | undefined, reason: string): MnemoError {
    let field = `.payload.${this.base}`;
    for (const k of this.keys) field += segment(k);
    if (key !== undefined) field += segment(key);
    return invalid(this.index, field, reason);
  }
}

function segment(key: string | number): string {
  if (typeof key === 'number') return `[${key}]`;
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * Checks a properties/metadata object and returns a deep copy, so a caller mutating its object after
 * append cannot make the projections disagree with the log. Rules: plain objects and arrays only
 * (a Date, Map or class instance is rejected: convert it first); finite numbers; no `__proto__`,
 * `constructor` or `prototype` key at any depth (own keys, so JSON.parse's own `__proto__` is caught);
 * an object key whose value is undefined is dropped (as JSON.stringify does); undefined inside an array,
 * functions, symbols and bigints are rejected. The properties object itself is level 1.
 */
function cloneObject(source: object, depth: number, path: JsonPath): Properties {
  if (depth > propertiesDepthMax) throw path.fail(undefined, `nested deeper than ${propertiesDepthMax} levels`);
  const copy: Properties = {};
  const keys = Object.keys(source);
  for (let k = 0; k < keys.length; k++) {
    const key = keys[k]!;
    if (key === '__proto__' || key === 'constructor' || key === 'prototype') {
      throw path.fail(key, `the key '${key}' is not allowed (prototype pollution)`);
    }
    const value = (source as Record<string, unknown>)[key];
    if (value === undefined) continue;
    copy[key] = cloneValue(value, key, depth, path);
  }
  return copy;
}

function cloneArray(source: unknown[], depth: number, path: JsonPath): JsonValue[] {
  if (depth > propertiesDepthMax) throw path.fail(undefined, `nested deeper than ${propertiesDepthMax} levels`);
  const copy: JsonValue[] = new Array(source.length);
  for (let k = 0; k < source.length; k++) {
    const value = source[k];
    if (value === undefined) throw path.fail(k, 'undefined is not a JSON value (use null)');
    copy[k] = cloneValue(value, k, depth, path);
  }
  return copy;
}

function cloneValue(value: unknown, key: string | number, depth: number, path: JsonPath): JsonValue {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      if (value - value === 0) return value; // false for NaN and ±Infinity, which JSON cannot carry
      throw path.fail(key, `${value} is not a JSON number`);
    case 'object': {
      if (value === null) return null;
      path.keys.push(key);
      let copy: JsonValue;
      if (Array.isArray(value)) copy = cloneArray(value, depth + 1, path);
      else if (isPlainObject(value)) copy = cloneObject(value, depth + 1, path);
      else {
        path.keys.pop();
        throw path.fail(key, `expected a plain JSON value, got ${describeValue(value)}`);
      }
      path.keys.pop();
      return copy;
    }
    default:
      throw path.fail(key, `a ${typeof value} is not a JSON value`);
  }
}

function properties(value: unknown, index: number, base: string, path: JsonPath): Properties {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || !isPlainObject(value)) {
    throw invalid(index, `.payload.${base}`, `expected a plain object, got ${describeValue(value)}`);
  }
  path.index = index;
  path.base = base;
  return cloneObject(value, 1, path);
}

function optionalProperties(value: unknown, index: number, base: string, path: JsonPath): Properties {
  return value === undefined || value === null ? noProperties : properties(value, index, base, path);
}

function requireId(value: unknown, index: number, field: string): string {
  if (typeof value !== 'string') throw invalid(index, `.payload.${field}`, `expected a string id, got ${describeValue(value)}`);
  if (value.length === 0) throw invalid(index, `.payload.${field}`, 'must not be empty');
  if (value.length > idCharsMax) throw invalid(index, `.payload.${field}`, `is ${value.length} chars; the limit is ${idCharsMax}`);
  return value;
}

function requireNodeType(value: unknown, index: number): string {
  if (typeof value !== 'string') throw invalid(index, '.payload.type', `expected a string, got ${describeValue(value)}`);
  if (value.length > typeCharsMax) throw invalid(index, '.payload.type', `is ${value.length} chars; the limit is ${typeCharsMax}`);
  if (!nodeTypePattern.test(value)) throw invalid(index, '.payload.type', `'${value}' must be non-empty and use only a-z 0-9 _ . -`);
  return value;
}

function requireRelation(value: unknown, index: number): string {
  if (typeof value !== 'string') throw invalid(index, '.payload.relation', `expected a string, got ${describeValue(value)}`);
  if (value.length === 0) throw invalid(index, '.payload.relation', 'must not be empty');
  if (value.length > relationCharsMax) throw invalid(index, '.payload.relation', `is ${value.length} chars; the limit is ${relationCharsMax}`);
  return value;
}

function requireLiveNode(value: unknown, index: number, field: string, overlay: BatchOverlay): string {
  const id = requireId(value, index, field);
  if (overlay.received) return id;
  if (!overlay.hasNode(id)) throw mnemoError('NODE_NOT_FOUND', { id, field: `events[${index}].payload.${field}` });
  return id;
}

function checkVector(value: unknown, index: number, overlay: BatchOverlay): Float32Array {
  let vector: number[] | Float32Array;
  if (value instanceof Float32Array || Array.isArray(value)) vector = value;
  else throw invalid(index, '.payload.vector', `expected an array of numbers or a Float32Array, got ${describeValue(value)}`);
  const dim = vector.length;
  if (dim === 0) throw invalid(index, '.payload.vector', 'must not be empty');
  if (dim > vectorDimMax) throw invalid(index, '.payload.vector', `has ${dim} dimensions; the limit is ${vectorDimMax}`);
  if (overlay.dim !== undefined && dim !== overlay.dim) {
    throw invalid(index, '.payload.vector', dimensionMismatch(overlay.dim, dim));
  }
  for (let k = 0; k < dim; k++) {
    const x = vector[k];
    if (typeof x !== 'number' || x - x !== 0) throw invalid(index, `.payload.vector[${k}]`, `expected a finite number, got ${describeValue(x)}`);
  }
  overlay.dim = dim; // the first vector fixes the dimension for the rest of the batch (and, once logged, the data dir)
  // A float32 copy: the precision HNSW indexes at, and what the log stores (4 bytes a dimension).
  return Float32Array.from(vector);
}

function prepareNodeCreated(p: Record<string, unknown>, index: number, overlay: BatchOverlay, path: JsonPath, out: RawEvent[]): void {
  const type = requireNodeType(p['type'], index);
  let id: string;
  if (overlay.received) id = requireId(p['id'], index, 'id');
  else if (p['id'] === undefined || p['id'] === null) {
    if (type.length + generatedNodeIdOverheadChars > idCharsMax) {
      throw invalid(index, '.payload.type', `is too long for a generated id 'node:{type}:{uuid}' (${idCharsMax} chars); give an id or use a type of at most ${idCharsMax - generatedNodeIdOverheadChars} chars`);
    }
    id = `node:${type}:${randomUUID()}`;
  } else {
    id = requireId(p['id'], index, 'id');
    if (overlay.hasNode(id)) throw mnemoError('ALREADY_EXISTS', { id, field: `events[${index}].payload.id` });
  }
  const props = optionalProperties(p['properties'], index, 'properties', path);
  overlay.nodes.set(id, true);
  out.push({ type: 'prime.node.created', payload: { id, type, properties: props } });
}

function prepareNodeUpdated(p: Record<string, unknown>, index: number, overlay: BatchOverlay, path: JsonPath, out: RawEvent[]): void {
  const id = requireLiveNode(p['id'], index, 'id', overlay);
  // A null value stays in the event: it means "remove this key", and the projections remove it.
  const props = properties(p['properties'], index, 'properties', path);
  out.push({ type: 'prime.node.updated', payload: { id, properties: props } });
}

/** Emits the cascade a node deletion implies (its live edges, then its vector), then the deletion itself. */
function prepareNodeDeleted(p: Record<string, unknown>, index: number, overlay: BatchOverlay, out: RawEvent[]): void {
  const id = requireLiveNode(p['id'], index, 'id', overlay);
  if (overlay.received) {
    out.push({ type: 'prime.node.deleted', payload: { id } });
    return;
  }
  for (const edgeId of overlay.view.edgeIdsOf(id)) {
    if (overlay.edges.has(edgeId)) continue; // deleted (or recreated) earlier in this batch: handled below or already gone
    overlay.edges.set(edgeId, deadEdge);
    out.push({ type: 'prime.edge.deleted', payload: { id: edgeId } });
  }
  const created = overlay.createdEdgesOf(id);
  if (created !== undefined) {
    for (const edge of created) {
      if (!edge.live || overlay.edges.get(edge.id) !== edge) continue;
      edge.live = false;
      out.push({ type: 'prime.edge.deleted', payload: { id: edge.id } });
    }
  }
  if (overlay.hasVector(id)) {
    overlay.vectors.set(id, false);
    out.push({ type: 'prime.vector.deleted', payload: { id } });
  }
  overlay.nodes.set(id, false);
  out.push({ type: 'prime.node.deleted', payload: { id } });
}

function prepareEdgeCreated(p: Record<string, unknown>, index: number, overlay: BatchOverlay, path: JsonPath, out: RawEvent[]): void {
  let id: string;
  if (overlay.received) id = requireId(p['id'], index, 'id');
  else if (p['id'] === undefined || p['id'] === null) id = `edge:${randomUUID()}`;
  else {
    id = requireId(p['id'], index, 'id');
    if (overlay.hasEdge(id)) throw mnemoError('ALREADY_EXISTS', { id, field: `events[${index}].payload.id` });
  }
  const source = requireLiveNode(p['source'], index, 'source', overlay);
  const target = requireLiveNode(p['target'], index, 'target', overlay);
  const relation = requireRelation(p['relation'], index);
  let weight = p['weight'];
  if (weight === undefined || weight === null) weight = 1;
  else if (typeof weight !== 'number' || weight - weight !== 0) {
    throw invalid(index, '.payload.weight', `expected a finite number, got ${describeValue(weight)}`);
  }
  const props = optionalProperties(p['properties'], index, 'properties', path);
  overlay.addEdge({ id, source, target, live: true });
  out.push({ type: 'prime.edge.created', payload: { id, source, target, relation, weight: weight as number, properties: props } });
}

function prepareEdgeDeleted(p: Record<string, unknown>, index: number, overlay: BatchOverlay, out: RawEvent[]): void {
  const id = requireId(p['id'], index, 'id');
  const edge = overlay.edges.get(id);
  if (overlay.received) {
    out.push({ type: 'prime.edge.deleted', payload: { id } });
    return;
  }
  if (edge === undefined ? !overlay.view.hasEdge(id) : !edge.live) {
    throw mnemoError('EDGE_NOT_FOUND', { id, field: `events[${index}].payload.id` });
  }
  if (edge === undefined) overlay.edges.set(id, deadEdge);
  else edge.live = false;
  out.push({ type: 'prime.edge.deleted', payload: { id } });
}

function prepareVectorStored(p: Record<string, unknown>, index: number, overlay: BatchOverlay, path: JsonPath, out: RawEvent[]): void {
  const id = requireId(p['id'], index, 'id');
  const text = p['text'];
  if (text !== undefined && text !== null && typeof text !== 'string') throw invalid(index, '.payload.text', `expected a string, got ${describeValue(text)}`);
  const textOnly = (p['vector'] === undefined || p['vector'] === null) && typeof text === 'string';
  const payload: VectorStored = textOnly ? { id } : { id, vector: checkVector(p['vector'], index, overlay) };
  if (typeof text === 'string') payload.text = text;
  const metadata = p['metadata'];
  if (metadata !== undefined && metadata !== null) payload.metadata = properties(metadata, index, 'metadata', path);
  overlay.vectors.set(id, !textOnly);
  out.push({ type: 'prime.vector.stored', payload });
}

function prepareVectorDeleted(p: Record<string, unknown>, index: number, overlay: BatchOverlay, out: RawEvent[]): void {
  const id = requireId(p['id'], index, 'id');
  if (!overlay.received && !overlay.hasVector(id)) throw mnemoError('VECTOR_NOT_FOUND', { id, field: `events[${index}].payload.id` });
  overlay.vectors.set(id, false);
  out.push({ type: 'prime.vector.deleted', payload: { id } });
}

function prepareEvent(event: unknown, index: number, overlay: BatchOverlay, path: JsonPath, out: RawEvent[]): void {
  if (typeof event !== 'object' || event === null || Array.isArray(event)) {
    throw invalid(index, '', `expected an object {type, payload}, got ${describeValue(event)}`);
  }
  const type = (event as { type?: unknown }).type;
  if (typeof type !== 'string') throw invalid(index, '.type', `expected a string, got ${describeValue(type)}`);
  const payload = (event as { payload?: unknown }).payload;
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    throw invalid(index, '.payload', `expected an object, got ${describeValue(payload)}`);
  }
  // Fields a payload does not define are dropped, so the log holds exactly the documented shape.
  const p = payload as Record<string, unknown>;
  switch (type) {
    case 'prime.node.created': return prepareNodeCreated(p, index, overlay, path, out);
    case 'prime.node.updated': return prepareNodeUpdated(p, index, overlay, path, out);
    case 'prime.node.deleted': return prepareNodeDeleted(p, index, overlay, out);
    case 'prime.edge.created': return prepareEdgeCreated(p, index, overlay, path, out);
    case 'prime.edge.deleted': return prepareEdgeDeleted(p, index, overlay, out);
    case 'prime.vector.stored': return prepareVectorStored(p, index, overlay, path, out);
    case 'prime.vector.deleted': return prepareVectorDeleted(p, index, overlay, out);
    default: throw mnemoError('UNKNOWN_EVENT_TYPE', { type, field: `events[${index}].type` });
  }
}

/**
 * Validates a raw batch against the state and returns the events to log, in order: ids generated where
 * missing (`node:{type}:{uuid}`, `edge:{uuid}`), defaults filled (properties {}, edge weight 1), payloads
 * deep-copied with unknown fields dropped, and every `prime.node.deleted` preceded by the cascade it
 * implies: a `prime.edge.deleted` for each live edge of the node (including edges created earlier in
 * the batch) and a `prime.vector.deleted` if the node id has a live vector.
 *
 * The batch is checked whole, in order, each event seeing the effects of the ones before it. On the
 * first problem it throws a MnemoError naming the field (`events[3].payload.source`) and the reason;
 * nothing is returned. Byte limits are the engine's, after encoding.
 *
 * Null for an optional field (id, weight, properties on create, text, metadata) means "not given".
 */
export function prepareBatch(input: unknown, view: StateView, options?: PrepareOptions): RawEvent[] {
  if (!Array.isArray(input)) throw mnemoError('VALIDATION_FAILED', { field: 'events', reason: `expected an array of events, got ${describeValue(input)}` });
  if (input.length === 0) throw mnemoError('VALIDATION_FAILED', { field: 'events', reason: 'a batch needs at least one event' });
  if (input.length > batchEventsMax) throw mnemoError('BATCH_TOO_LARGE', { size: input.length, max: batchEventsMax, unit: 'events' });
  const overlay = new BatchOverlay(view, options?.dimDefault, options?.received === true);
  const path = new JsonPath();
  const out: RawEvent[] = [];
  for (let index = 0; index < input.length; index++) prepareEvent(input[index], index, overlay, path, out);
  return out;
}
