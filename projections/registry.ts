// Every projection, declared once, in apply order, with what each reads of the others. Apply
// order, checkpoint load order and time travel's partial replay are all derived from this list, so
// they cannot disagree.
//
// Why this order: the domain, type and cross-domain indexes read a node's domain from node-state, so they
// are applied before it (on an update they must see the old domain); so is adjacency, which must
// still find a deleted node's handle. The text index reads merged properties from node-state, so it
// comes after it. The vector index and seq-time read nothing.

import { Adjacency } from './adjacency.js';
import { CrossDomainIndex } from './cross-domain.js';
import { DomainIndex } from './domain-index.js';
import { NodeState } from './node-state.js';
import type { EventExpander, Projection } from './projection.js';
import { SeqTimeIndex } from './seq-time.js';
import { Tallies } from './tallies.js';
import { TextIndex } from './text-index.js';
import { TypeIndex } from './type-index.js';
import { VectorIndex, type VectorIndexOptions } from './vector-index.js';
import { assert } from '../src/kernel/errors.js';
import type { StoredEvent } from '../src/kernel/events.js';

/** The projections by name. */
export interface Projections {
  'domain-index': DomainIndex;
  'cross-domain': CrossDomainIndex;
  adjacency: Adjacency;
  'vector-index': VectorIndex;
  'node-state': NodeState;
  'text-index': TextIndex;
  'seq-time': SeqTimeIndex;
  'type-index': TypeIndex;
  tallies: Tallies;
}

export type ProjectionName = keyof Projections;

export interface ProjectionOptions {
  vector?: VectorIndexOptions;
  /** Makes the merge step for events with an `hlc`; without it they apply literally. */
  expander?: () => EventExpander;
}

interface Declaration<N extends ProjectionName> {
  name: N;
  /** The projections whose state this one reads while applying or loading (built, and loaded, before it). */
  reads: readonly ProjectionName[];
  create(built: Partial<Projections>, options: ProjectionOptions): Projections[N];
}

function declare<N extends ProjectionName>(declaration: Declaration<N>): Declaration<N> {
  return declaration;
}

/** Apply order. */
export const projectionDeclarations = [
  declare({ name: 'domain-index', reads: ['node-state'], create: (p) => new DomainIndex(p['node-state']!) }),
  declare({ name: 'type-index', reads: ['node-state'], create: (p) => new TypeIndex(p['node-state']!) }),
  declare({ name: 'cross-domain', reads: ['node-state', 'adjacency'], create: (p) => new CrossDomainIndex(p['node-state']!, (nodeId) => p.adjacency!.edgesOf(nodeId)) }),
  declare({ name: 'adjacency', reads: ['node-state'], create: (p) => new Adjacency(p['node-state']!) }),
  declare({ name: 'vector-index', reads: [], create: (_p, options) => new VectorIndex({ ...options.vector, space: options.vector?.space ?? 'cosine' }) }),
  declare({ name: 'node-state', reads: [], create: () => new NodeState() }),
  declare({
    name: 'text-index',
    reads: ['node-state'],
    create: (p) => {
      const nodes = p['node-state']!;
      return new TextIndex(
        (id) => nodes.propertiesOf(id),
        () => nodes.ids(),
      );
    },
  }),
  declare({ name: 'seq-time', reads: [], create: () => new SeqTimeIndex() }),
  declare({ name: 'tallies', reads: [], create: () => new Tallies() }),
] as const;

/** The names `wanted` need, with everything they read, in apply order. */
export function closureOf(wanted: readonly ProjectionName[]): ProjectionName[] {
  const needed = new Set<ProjectionName>();
  const add = (name: ProjectionName): void => {
    if (needed.has(name)) return;
    needed.add(name);
    for (const read of declarationOf(name).reads) add(read);
  };
  wanted.forEach(add);
  return projectionDeclarations.map((d) => d.name).filter((name) => needed.has(name));
}

function declarationOf(name: ProjectionName): Declaration<ProjectionName> {
  const found = projectionDeclarations.find((d) => d.name === name);
  assert(found !== undefined, `no projection named '${name}'`);
  return found as Declaration<ProjectionName>;
}

/** Each projection after the ones it reads, otherwise in apply order. */
function dependencyOrder(names: readonly ProjectionName[]): ProjectionName[] {
  const placed: ProjectionName[] = [];
  while (placed.length < names.length) {
    const ready = names.filter((n) => !placed.includes(n) && declarationOf(n).reads.every((r) => placed.includes(r) || !names.includes(r)));
    assert(ready.length > 0, `projections read each other in a cycle: ${names.filter((n) => !placed.includes(n)).join(', ')}`);
    placed.push(...ready);
  }
  return placed;
}

/**
 * The projections (all, or those `only` names and what they read), built in dependency order and
 * fanned out to in apply order.
 */
export class ProjectionRegistry {
  readonly byName: Projections;
  /** Apply order. */
  private readonly ordered: Projection[];
  /** Checkpoint load order: each after what it reads. */
  readonly loadOrder: readonly Projection[];
  /** Replicated mode's merge step, saved and loaded with the rest, applied first. */
  readonly expander: EventExpander | undefined;

  constructor(options: ProjectionOptions = {}, only?: readonly ProjectionName[]) {
    const names = only === undefined ? projectionDeclarations.map((d) => d.name) : closureOf(only);
    const built: Partial<Projections> = {};
    for (const name of dependencyOrder(names)) {
      const projection = declarationOf(name).create(built, options);
      assert(projection.name === name, `projection declared as '${name}' names itself '${projection.name}'`);
      (built as Record<ProjectionName, Projection>)[name] = projection;
    }
    this.byName = built as Projections;
    this.ordered = names.map((name) => (built as Record<ProjectionName, Projection>)[name]);
    this.loadOrder = dependencyOrder(names).map((name) => (built as Record<ProjectionName, Projection>)[name]);
    this.expander = options.expander?.();
    if (this.expander !== undefined) this.loadOrder = [this.expander, ...this.loadOrder];
  }

  /**
   * Fans one event out to every projection, in apply order. An event with an `hlc` goes through
   * the merge step first, and the events it returns are fanned out instead, with the event's envelope.
   */
  apply(event: StoredEvent): void {
    if (event.hlc !== undefined && this.expander !== undefined) {
      const effects = this.expander.expand(event as StoredEvent & { hlc: string; origin: string });
      for (let i = 0; i < effects.length; i++) {
        const effect = effects[i]!;
        this.fanOut({ seq: event.seq, ts: event.ts, type: effect.type, payload: effect.payload, hlc: event.hlc, origin: event.origin } as StoredEvent);
      }
      return;
    }
    this.fanOut(event);
  }

  private fanOut(event: StoredEvent): void {
    const ordered = this.ordered;
    for (let i = 0; i < ordered.length; i++) ordered[i]!.apply(event);
  }

  /** Every projection, the merge step first when there is one. */
  all(): readonly Projection[] {
    return this.expander === undefined ? this.ordered : [this.expander, ...this.ordered];
  }
}
