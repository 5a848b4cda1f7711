// The kernel: event types, the envelope, and validation. Imports nothing of ours but the kernel.

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type Properties = Record<string, JsonValue>;

export interface NodeCreated { id: string; type: string; properties: Properties }
export interface NodeUpdated { id: string; properties: Properties }
export interface NodeDeleted { id: string }
export interface EdgeCreated { id: string; source: string; target: string; relation: string; weight?: number; properties?: Properties }
export interface EdgeDeleted { id: string }
export interface VectorStored { id: string; vector: number[] | Float32Array; text?: string; metadata?: Properties }
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
  /** Writer id, in replicated mode. */
  origin?: string;
  /** Hybrid logical clock, in replicated mode. */
  hlc?: string;
};

/** The entity an event is about: the id every payload carries. */
export function entityIdOf(event: RawEvent): string {
  return event.payload.id;
}
