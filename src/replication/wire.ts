// What travels in the stream: one message per batch, on the subject `<stream>.<origin>`, with the
// message id `<origin>:<first seq>` (a republish of the same batch is a duplicate JetStream drops)
// and a header naming the batch's last local seq. The body is the batch exactly as the origin's
// WAL record holds it: a msgpack array of positional event arrays, each ending with its hlc and
// origin (src/kernel/event-codec.ts). Received bodies are input from another machine, so every
// shape is checked here before any of it reaches the engine.

import { Unpackr } from 'msgpackr';

import { eventFromLog } from '../kernel/event-codec.js';
import { eventTypes, type RawEvent } from '../kernel/events.js';
import { batchEventsMax } from '../kernel/limits.js';
import { hlcFutureDriftMsMax, isHlc, parseHlc } from './hlc.js';

export const lastSeqHeader = 'Mnemo-Last-Seq';

export function subjectOf(stream: string, origin: string): string {
  return `${stream}.${origin}`;
}

export function messageIdOf(origin: string, firstSeq: number): string {
  return `${origin}:${firstSeq}`;
}

/** How many payload fields each event array carries before its hlc and origin, by type code. */
const fieldsByCode = [3, 2, 1, 6, 1, 4, 1];

const unpackr = new Unpackr({ useRecords: false, moreTypes: true });

export type ReceivedEvent = RawEvent & { hlc: string; origin: string };

/**
 * The events of a received message from `origin`, or a reason it is refused: it must decode, hold
 * 1 to batchEventsMax event arrays of a known type, each stamped by `origin` with an hlc greater
 * than the one before and not more than a day ahead of `now`. The payload's own checks (ids,
 * properties, vectors) are the engine's, as for any append.
 */
export function decodeBatch(body: Uint8Array, origin: string, now: number): ReceivedEvent[] | string {
  let items: unknown;
  try {
    items = unpackr.unpack(body);
  } catch (e) {
    return `body does not decode as msgpack: ${(e as Error).message}`;
  }
  if (!Array.isArray(items)) return 'body is not an array of events';
  if (items.length === 0 || items.length > batchEventsMax) return `holds ${items.length} events; 1 to ${batchEventsMax} expected`;
  const events: ReceivedEvent[] = [];
  let previous = '';
  for (let i = 0; i < items.length; i++) {
    const item: unknown = items[i];
    if (!Array.isArray(item) || typeof item[0] !== 'number') return `event ${i} is not an event array`;
    const fields = fieldsByCode[item[0]];
    if (fields === undefined || eventTypes[item[0]] === undefined) return `event ${i} has an unknown type code ${String(item[0])}`;
    if (item.length !== 4 + fields) return `event ${i} has ${item.length} fields, expected ${4 + fields} (payload, hlc, origin)`;
    if (eventTypes[item[0]] === 'prime.vector.stored' && item[3] !== null && !(item[3] instanceof Uint8Array && item[3].byteLength % 4 === 0)) {
      return `event ${i}'s vector is not a bin of float32s`;
    }
    const event = eventFromLog(i + 1, item);
    if (!isHlc(event.hlc)) return `event ${i} has no valid hlc`;
    if (event.origin !== origin) return `event ${i} names origin ${JSON.stringify(event.origin)} on the subject of ${origin}`;
    if (event.hlc <= previous) return `event ${i}'s hlc does not follow the one before it`;
    if (parseHlc(event.hlc).wall > now + hlcFutureDriftMsMax) return `event ${i}'s hlc is more than ${hlcFutureDriftMsMax} ms ahead of this machine's clock`;
    previous = event.hlc;
    events.push(event as ReceivedEvent); // its seq and ts are the origin's own; the engine reads type, payload and hlc
  }
  return events;
}
