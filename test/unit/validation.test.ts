// prepareBatch: every rejection names the field and the reason; cascades and in-batch overlays are exact.
import { describe, expect, it } from 'vitest';
import { isMnemoError, type ErrorCode } from '../../src/kernel/errors.js';
import { prepareBatch, type RawEvent, type StateView, type StoredEvent } from '../../src/kernel/events.js';
import { batchEventsMax, vectorDimMax } from '../../src/kernel/limits.js';
import { Adjacency } from '../../projections/adjacency.js';
import { NodeState } from '../../projections/node-state.js';

/** A state built by applying prepared batches to the real node-state and adjacency projections. */
class GivenState implements StateView {
  readonly nodes = new NodeState();
  readonly adjacency = new Adjacency(this.nodes);
  readonly vectors = new Set<string>();
  dim: number | undefined;
  private seq = 0;

  constructor(private readonly dimDefault?: number) {}

  hasNode(id: string): boolean { return this.nodes.has(id); }
  nodeType(id: string): string | undefined { return this.nodes.get(id)?.type; }
  hasEdge(id: string): boolean { return this.adjacency.hasEdge(id); }
  edgeIdsOf(nodeId: string): Iterable<string> { return this.adjacency.edgeIdsOf(nodeId); }
  hasVector(id: string): boolean { return this.vectors.has(id); }
  vectorDim(): number | undefined { return this.dim; }

  /** Validates and applies a batch, as the engine does. */
  append(batch: unknown): RawEvent[] {
    const events = prepareBatch(batch, this, { dimDefault: this.dimDefault });
    for (const event of events) {
      const stored = { ...event, seq: ++this.seq, ts: 1_000 + this.seq } as StoredEvent;
      this.adjacency.apply(stored); // the engine's order: adjacency before node state
      this.nodes.apply(stored);
      if (stored.type === 'prime.vector.stored') {
        this.vectors.add(stored.payload.id);
        this.dim = stored.payload.vector.length;
      }
      if (stored.type === 'prime.vector.deleted') this.vectors.delete(stored.payload.id);
    }
    return events;
  }
}

function node(id: string, type = 'person', properties?: unknown): unknown {
  return { type: 'prime.node.created', payload: { id, type, properties } };
}
function edge(id: string, source: string, target: string, relation = 'knows'): unknown {
  return { type: 'prime.edge.created', payload: { id, source, target, relation } };
}
function vector(id: string, values: unknown): unknown {
  return { type: 'prime.vector.stored', payload: { id, vector: values } };
}

function rejectionOf(batch: unknown, state: StateView = new GivenState(), options?: { dimDefault?: number }): { code: ErrorCode; message: string } {
  try {
    prepareBatch(batch, state, options);
  } catch (e) {
    if (isMnemoError(e)) return { code: e.code, message: e.message };
    throw e;
  }
  throw new Error('expected the batch to be rejected');
}

describe('prepareBatch rejects a malformed batch', () => {
  it.each([
    ['not an array', { type: 'prime.node.created' }, 'VALIDATION_FAILED', 'events: expected an array'],
    ['an empty array', [], 'VALIDATION_FAILED', 'events: a batch needs at least one event'],
    ['an event that is not an object', [42], 'VALIDATION_FAILED', 'events[0]: expected an object'],
    ['a missing type', [{ payload: {} }], 'VALIDATION_FAILED', 'events[0].type: expected a string'],
    ['an unknown type', [{ type: 'prime.node.exploded', payload: {} }], 'UNKNOWN_EVENT_TYPE', "events[0].type: unknown event type 'prime.node.exploded'"],
    ['a null payload', [{ type: 'prime.node.created', payload: null }], 'VALIDATION_FAILED', 'events[0].payload: expected an object, got null'],
    ['an array payload', [{ type: 'prime.node.created', payload: [] }], 'VALIDATION_FAILED', 'events[0].payload: expected an object, got an array'],
  ])('given %s, when prepared, then %s names the field', (_name, batch, code, message) => {
    const rejection = rejectionOf(batch);
    expect(rejection.code).toBe(code);
    expect(rejection.message).toContain(message);
  });

  it('given more events than batchEventsMax, when prepared, then BATCH_TOO_LARGE', () => {
    const batch = Array.from({ length: batchEventsMax + 1 }, () => node('x'));
    const rejection = rejectionOf(batch);
    expect(rejection.code).toBe('BATCH_TOO_LARGE');
    expect(rejection.message).toContain(`${batchEventsMax + 1} events`);
  });

  it('given exactly batchEventsMax events, when prepared, then all are accepted', () => {
    const batch = Array.from({ length: batchEventsMax }, () => ({ type: 'prime.node.created', payload: { type: 'person' } }));
    expect(prepareBatch(batch, new GivenState())).toHaveLength(batchEventsMax);
  });
});

describe('prepareBatch rejects bad ids, types, relations and weights', () => {
  const given = (): GivenState => {
    const state = new GivenState();
    state.append([node('a'), node('b')]);
    return state;
  };
  it.each([
    ['a numeric id', [node(7 as unknown as string)], 'VALIDATION_FAILED', 'events[0].payload.id: expected a string id'],
    ['an empty id', [node('')], 'VALIDATION_FAILED', 'events[0].payload.id: must not be empty'],
    ['an id of 129 chars', [node('x'.repeat(129))], 'VALIDATION_FAILED', 'events[0].payload.id: is 129 chars; the limit is 128'],
    ['an update without id', [{ type: 'prime.node.updated', payload: { properties: {} } }], 'VALIDATION_FAILED', 'events[0].payload.id: expected a string id, got undefined'],
    ['an uppercase type', [node('c', 'Person')], 'VALIDATION_FAILED', "events[0].payload.type: 'Person' must be non-empty and use only a-z 0-9 _ . -"],
    ['an empty type', [node('c', '')], 'VALIDATION_FAILED', 'events[0].payload.type'],
    ['a type of 129 chars', [node('c', 't'.repeat(129))], 'VALIDATION_FAILED', 'events[0].payload.type: is 129 chars; the limit is 128'],
    ['a type too long for a generated id', [{ type: 'prime.node.created', payload: { type: 't'.repeat(87) } }], 'VALIDATION_FAILED', 'events[0].payload.type: is too long for a generated id'],
    ['a missing relation', [{ type: 'prime.edge.created', payload: { source: 'a', target: 'b' } }], 'VALIDATION_FAILED', 'events[0].payload.relation: expected a string'],
    ['an empty relation', [edge('e', 'a', 'b', '')], 'VALIDATION_FAILED', 'events[0].payload.relation: must not be empty'],
    ['a relation of 129 chars', [edge('e', 'a', 'b', 'r'.repeat(129))], 'VALIDATION_FAILED', 'events[0].payload.relation: is 129 chars'],
    ['a NaN weight', [{ type: 'prime.edge.created', payload: { source: 'a', target: 'b', relation: 'r', weight: NaN } }], 'VALIDATION_FAILED', 'events[0].payload.weight: expected a finite number'],
    ['an infinite weight', [{ type: 'prime.edge.created', payload: { source: 'a', target: 'b', relation: 'r', weight: Infinity } }], 'VALIDATION_FAILED', 'events[0].payload.weight'],
    ['a string weight', [{ type: 'prime.edge.created', payload: { source: 'a', target: 'b', relation: 'r', weight: '2' } }], 'VALIDATION_FAILED', 'events[0].payload.weight'],
    ['an edge from a missing node', [edge('e', 'nobody', 'b')], 'NODE_NOT_FOUND', "events[0].payload.source: node 'nobody' does not exist"],
    ['an edge to a missing node', [edge('e', 'a', 'nobody')], 'NODE_NOT_FOUND', "events[0].payload.target: node 'nobody' does not exist"],
    ['an update of a missing node', [{ type: 'prime.node.updated', payload: { id: 'nobody', properties: {} } }], 'NODE_NOT_FOUND', "events[0].payload.id: node 'nobody'"],
    ['a delete of a missing node', [{ type: 'prime.node.deleted', payload: { id: 'nobody' } }], 'NODE_NOT_FOUND', "events[0].payload.id: node 'nobody'"],
    ['a delete of a missing edge', [{ type: 'prime.edge.deleted', payload: { id: 'nothing' } }], 'EDGE_NOT_FOUND', "events[0].payload.id: edge 'nothing'"],
    ['a delete of a missing vector', [{ type: 'prime.vector.deleted', payload: { id: 'a' } }], 'VECTOR_NOT_FOUND', "events[0].payload.id: vector 'a'"],
    ['a node id that exists', [node('a')], 'ALREADY_EXISTS', "events[0].payload.id: 'a' already exists"],
    ['an update without properties', [{ type: 'prime.node.updated', payload: { id: 'a' } }], 'VALIDATION_FAILED', 'events[0].payload.properties: expected a plain object, got undefined'],
  ])('given %s, when prepared, then it is rejected naming the field', (_name, batch, code, message) => {
    const rejection = rejectionOf(batch, given());
    expect(rejection.code).toBe(code);
    expect(rejection.message).toContain(message);
  });

  it('given an edge id that exists, when created again, then ALREADY_EXISTS', () => {
    const state = given();
    state.append([edge('e', 'a', 'b')]);
    expect(rejectionOf([edge('e', 'b', 'a')], state)).toMatchObject({ code: 'ALREADY_EXISTS' });
  });

  it('given a type of 86 chars and no id, when prepared, then the generated id fits idCharsMax', () => {
    const [event] = prepareBatch([{ type: 'prime.node.created', payload: { type: 't'.repeat(86) } }], new GivenState());
    expect(event!.payload.id).toHaveLength(128);
  });
});

describe('prepareBatch checks vectors', () => {
  const given = (dim?: number): GivenState => {
    const state = new GivenState();
    if (dim !== undefined) state.append([vector('v0', new Array(dim).fill(0.5))]);
    return state;
  };
  it.each([
    ['a string', 'nope', 'events[0].payload.vector: expected an array of numbers or a Float32Array, got a string'],
    ['a Float64Array', new Float64Array(3), 'events[0].payload.vector: expected an array of numbers or a Float32Array, got a Float64Array'],
    ['an empty array', [], 'events[0].payload.vector: must not be empty'],
    ['a NaN element', [0.1, NaN, 0.3], 'events[0].payload.vector[1]: expected a finite number'],
    ['an Infinity element', [0.1, 0.2, Infinity], 'events[0].payload.vector[2]: expected a finite number'],
    ['a string element', [0.1, '0.2', 0.3], 'events[0].payload.vector[1]: expected a finite number, got a string'],
    ['a NaN in a Float32Array', new Float32Array([0.1, NaN, 0.3]), 'events[0].payload.vector[1]'],
    ['too many dimensions', new Array(vectorDimMax + 1).fill(0), `events[0].payload.vector: has ${vectorDimMax + 1} dimensions; the limit is ${vectorDimMax}`],
  ])('given %s, when stored, then it is rejected', (_name, values, message) => {
    const rejection = rejectionOf([vector('v', values)], given());
    expect(rejection).toEqual({ code: 'VALIDATION_FAILED', message: expect.stringContaining(message) });
  });

  it('given a data dir of dim 4, when a 3-dim vector is stored, then the message says both', () => {
    expect(rejectionOf([node('x'), vector('v', [1, 2, 3])], given(4)).message).toBe('events[1].payload.vector: expected 4 dimensions, got 3: a data dir\'s vector dimension is fixed by its first vector (or the vector.dim option); embed with the same model, or start a new data dir (--data-dir) for another');
  });

  it('given no vector yet, when a batch stores 3 then 4 dims, then the first binds the batch', () => {
    expect(rejectionOf([vector('v1', [1, 2, 3]), vector('v2', [1, 2, 3, 4])]).message).toBe('events[1].payload.vector: expected 3 dimensions, got 4: a data dir\'s vector dimension is fixed by its first vector (or the vector.dim option); embed with the same model, or start a new data dir (--data-dir) for another');
  });

  it('given a configured dim and no vector yet, when a different dim arrives, then it is rejected', () => {
    expect(rejectionOf([vector('v', [1, 2, 3])], new GivenState(), { dimDefault: 8 }).message).toBe('events[0].payload.vector: expected 8 dimensions, got 3: a data dir\'s vector dimension is fixed by its first vector (or the vector.dim option); embed with the same model, or start a new data dir (--data-dir) for another');
  });

  it('given text or metadata of the wrong kind, when stored, then the field is named', () => {
    expect(rejectionOf([{ type: 'prime.vector.stored', payload: { id: 'v', vector: [1], text: 5 } }]).message).toContain('events[0].payload.text: expected a string');
    expect(rejectionOf([{ type: 'prime.vector.stored', payload: { id: 'v', vector: [1], metadata: [1] } }]).message).toContain('events[0].payload.metadata: expected a plain object');
  });

  it('given a Float32Array and a number[], when stored, then both are accepted as float32 copies (the precision HNSW indexes and the log stores)', () => {
    const f32 = new Float32Array([1, 2, 3]);
    const plain = [4, 5, 6.1];
    const events = prepareBatch([vector('a', f32), { type: 'prime.vector.stored', payload: { id: 'b', vector: plain, text: 'hi', metadata: { k: 1 } } }], new GivenState());
    expect(events[0]!.payload).toEqual({ id: 'a', vector: new Float32Array([1, 2, 3]) });
    expect((events[0]!.payload as { vector: unknown }).vector).not.toBe(f32);
    expect(events[1]!.payload).toEqual({ id: 'b', vector: new Float32Array([4, 5, 6.1]), text: 'hi', metadata: { k: 1 } });
  });
});

describe('prepareBatch checks properties and metadata', () => {
  const nested = (levels: number): Record<string, unknown> => {
    let value: Record<string, unknown> = { leaf: 1 };
    for (let i = 1; i < levels; i++) value = { deeper: value };
    return value;
  };
  it.each([
    ['an array', [1, 2], 'events[0].payload.properties: expected a plain object, got an array'],
    ['a Date', new Date(0), 'events[0].payload.properties: expected a plain object, got a Date'],
    ['17 levels', nested(17), 'nested deeper than 16 levels'],
    ['an own __proto__ key from JSON.parse', JSON.parse('{"__proto__": {"polluted": true}}'), "events[0].payload.properties.__proto__: the key '__proto__' is not allowed"],
    ['a nested __proto__ key', JSON.parse('{"a": [{"__proto__": 1}]}'), 'events[0].payload.properties.a[0].__proto__: the key'],
    ['a constructor key', { constructor: 'x' }, "the key 'constructor' is not allowed"],
    ['a nested prototype key', { a: { prototype: 1 } }, "events[0].payload.properties.a.prototype: the key 'prototype'"],
    ['a function', { f: () => 1 }, 'events[0].payload.properties.f: a function is not a JSON value'],
    ['a symbol', { s: Symbol('s') }, 'events[0].payload.properties.s: a symbol is not a JSON value'],
    ['a bigint', { n: 10n }, 'events[0].payload.properties.n: a bigint is not a JSON value'],
    ['undefined inside an array', { list: [1, undefined] }, 'events[0].payload.properties.list[1]: undefined is not a JSON value'],
    ['a NaN', { n: NaN }, 'events[0].payload.properties.n: NaN is not a JSON number'],
    ['a nested Date', { when: new Date(0) }, 'events[0].payload.properties.when: expected a plain JSON value, got a Date'],
    ['a Map', { m: new Map() }, 'events[0].payload.properties.m: expected a plain JSON value, got a Map'],
    ['an odd key with a bad value', { 'two words': Infinity }, 'events[0].payload.properties["two words"]: Infinity is not a JSON number'],
  ])('given properties with %s, when a node is created, then it is rejected', (_name, properties, message) => {
    const rejection = rejectionOf([node('n', 'person', properties)]);
    expect(rejection.code).toBe('VALIDATION_FAILED');
    expect(rejection.message).toContain(message);
  });

  it('given metadata with a forbidden key, when a vector is stored, then the metadata field is named', () => {
    const rejection = rejectionOf([{ type: 'prime.vector.stored', payload: { id: 'v', vector: [1], metadata: { x: { constructor: 1 } } } }]);
    expect(rejection.message).toContain('events[0].payload.metadata.x.constructor');
  });

  it('given 16 levels of nesting, when created, then it is accepted', () => {
    expect(prepareBatch([node('n', 'person', nested(16))], new GivenState())).toHaveLength(1);
  });

  it('given an undefined value in an object, when created, then the key is dropped as JSON would', () => {
    const [event] = prepareBatch([node('n', 'person', { a: 1, b: undefined })], new GivenState());
    expect(event!.payload).toEqual({ id: 'n', type: 'person', properties: { a: 1 } });
    expect(Object.keys((event!.payload as { properties: object }).properties)).toEqual(['a']);
  });

  it('given an update setting a key to null, when prepared, then the null stays in the event', () => {
    const state = new GivenState();
    state.append([node('n', 'person', { a: 1 })]);
    const [event] = prepareBatch([{ type: 'prime.node.updated', payload: { id: 'n', properties: { a: null, b: 2 } } }], state);
    expect(event).toEqual({ type: 'prime.node.updated', payload: { id: 'n', properties: { a: null, b: 2 } } });
  });

  it('given input the caller mutates after prepare, when the events are read, then they hold the original values', () => {
    const properties = { tags: ['x'], nested: { k: 1 } };
    const [event] = prepareBatch([node('n', 'person', properties)], new GivenState());
    properties.tags.push('y');
    properties.nested.k = 2;
    expect(event!.payload).toEqual({ id: 'n', type: 'person', properties: { tags: ['x'], nested: { k: 1 } } });
  });
});

describe('prepareBatch normalises', () => {
  it('given events without ids or defaults, when prepared, then ids are generated and defaults filled', () => {
    const state = new GivenState();
    const events = state.append([
      { type: 'prime.node.created', payload: { type: 'person', extra: 'dropped' } },
      { type: 'prime.node.created', payload: { id: 'b', type: 'place', properties: null } },
    ]);
    const a = events[0]!.payload.id;
    expect(a).toMatch(/^node:person:[0-9a-f-]{36}$/);
    expect(events[0]).toEqual({ type: 'prime.node.created', payload: { id: a, type: 'person', properties: {} } });
    expect(events[1]).toEqual({ type: 'prime.node.created', payload: { id: 'b', type: 'place', properties: {} } });
    const [linked] = prepareBatch([{ type: 'prime.edge.created', payload: { source: a, target: 'b', relation: 'at', weight: null } }], state);
    expect(linked!.payload.id).toMatch(/^edge:[0-9a-f-]{36}$/);
    expect(linked).toEqual({ type: 'prime.edge.created', payload: { id: linked!.payload.id, source: a, target: 'b', relation: 'at', weight: 1, properties: {} } });
  });
});

describe('prepareBatch overlays the batch on the state', () => {
  it('given a node created at events[0], when events[1] links it, then the edge is accepted', () => {
    const events = prepareBatch([node('a'), node('b'), edge('e', 'a', 'b')], new GivenState());
    expect(events.map((e) => e.type)).toEqual(['prime.node.created', 'prime.node.created', 'prime.edge.created']);
  });

  it('given a node deleted earlier in the batch, when an edge targets it, then NODE_NOT_FOUND names the field', () => {
    const state = new GivenState();
    state.append([node('a'), node('b')]);
    const rejection = rejectionOf([{ type: 'prime.node.deleted', payload: { id: 'b' } }, edge('e', 'a', 'b')], state);
    expect(rejection).toEqual({ code: 'NODE_NOT_FOUND', message: "events[1].payload.target: node 'b' does not exist" });
  });

  it('given a node deleted in the batch, when recreated later in the batch, then it is accepted', () => {
    const state = new GivenState();
    state.append([node('a')]);
    const events = prepareBatch([{ type: 'prime.node.deleted', payload: { id: 'a' } }, node('a'), { type: 'prime.node.deleted', payload: { id: 'a' } }], state);
    expect(events.map((e) => e.type)).toEqual(['prime.node.deleted', 'prime.node.created', 'prime.node.deleted']);
  });

  it('given an edge deleted in the batch, when deleted again, then EDGE_NOT_FOUND', () => {
    const state = new GivenState();
    state.append([node('a'), edge('e', 'a', 'a')]);
    const del = { type: 'prime.edge.deleted', payload: { id: 'e' } };
    expect(rejectionOf([del, del], state)).toEqual({ code: 'EDGE_NOT_FOUND', message: "events[1].payload.id: edge 'e' does not exist" });
  });

  it('given a rejected event late in a batch, when prepared, then nothing is returned and the state is untouched', () => {
    const state = new GivenState();
    expect(rejectionOf([node('a'), node('b'), edge('e', 'a', 'zzz')], state).code).toBe('NODE_NOT_FOUND');
    expect(state.nodes.count).toBe(0);
  });
});

describe('prepareBatch expands a node deletion into its cascade', () => {
  it('given a node with an out-edge, an in-edge, a self-loop, parallel edges and a vector, when deleted, then every edge and the vector go first', () => {
    const state = new GivenState();
    state.append([
      node('hub'), node('x'), node('y'),
      edge('out1', 'hub', 'x'), edge('out2', 'hub', 'x'), // parallel: same pair, same relation
      edge('in1', 'y', 'hub'), edge('loop', 'hub', 'hub'), edge('other', 'x', 'y'),
      vector('hub', [1, 0, 0]), vector('x', [0, 1, 0]),
    ]);
    const events = state.append([{ type: 'prime.node.deleted', payload: { id: 'hub' } }]);
    expect(events).toEqual([
      { type: 'prime.edge.deleted', payload: { id: 'out1' } },
      { type: 'prime.edge.deleted', payload: { id: 'out2' } },
      { type: 'prime.edge.deleted', payload: { id: 'loop' } },
      { type: 'prime.edge.deleted', payload: { id: 'in1' } },
      { type: 'prime.vector.deleted', payload: { id: 'hub' } },
      { type: 'prime.node.deleted', payload: { id: 'hub' } },
    ]);
    expect(state.adjacency.count).toBe(1);
    expect([...state.vectors]).toEqual(['x']);
  });

  it('given edges created and deleted earlier in the same batch, when the node is deleted, then the cascade covers exactly the live ones', () => {
    const state = new GivenState();
    state.append([node('a'), node('b'), edge('old1', 'a', 'b'), edge('old2', 'b', 'a')]);
    const events = state.append([
      edge('new1', 'a', 'b'),
      edge('new2', 'b', 'a'),
      edge('loop', 'a', 'a'),
      { type: 'prime.edge.deleted', payload: { id: 'old1' } },
      { type: 'prime.edge.deleted', payload: { id: 'new1' } },
      vector('a', [1, 2]),
      { type: 'prime.node.deleted', payload: { id: 'a' } },
    ]);
    expect(events.slice(6)).toEqual([
      { type: 'prime.edge.deleted', payload: { id: 'old2' } },
      { type: 'prime.edge.deleted', payload: { id: 'new2' } },
      { type: 'prime.edge.deleted', payload: { id: 'loop' } },
      { type: 'prime.vector.deleted', payload: { id: 'a' } },
      { type: 'prime.node.deleted', payload: { id: 'a' } },
    ]);
    expect(state.adjacency.count).toBe(0);
  });

  it('given a vector deleted earlier in the batch, when the node is deleted, then no second vector deletion', () => {
    const state = new GivenState();
    state.append([node('a'), vector('a', [1])]);
    const events = state.append([{ type: 'prime.vector.deleted', payload: { id: 'a' } }, { type: 'prime.node.deleted', payload: { id: 'a' } }]);
    expect(events.map((e) => e.type)).toEqual(['prime.vector.deleted', 'prime.node.deleted']);
  });
});
