// The hybrid logical clock every replicated event carries: wall milliseconds and a counter, with
// the writer's origin name as the tie-break. An event's `hlc` is the 18-hex-char string
// `wwwwwwwwwwww` (wall ms, 12 hex digits: good until the year 10889) + `cccccc` (counter, 6 hex
// digits), and its `origin` a separate field. Because the clock part is fixed-width, a stamp is
// compared as one string, `hlc + origin`: plain `<` orders by wall, then counter, then origin.
//
// Why an HLC and not wall time alone: machines' clocks drift, and an edit made after seeing
// another must win over it even when the editor's clock is behind. Receiving a remote stamp moves
// the local clock past it, so every later local stamp is greater than everything already seen.

import { mnemoError } from '../kernel/errors.js';

const wallHexChars = 12;
const counterHexChars = 6;
export const hlcChars = wallHexChars + counterHexChars;
/** The counter's largest value; past it the clock borrows the next millisecond (1.6e7 events in one ms will not happen). */
const counterMax = 0xff_ffff;
/** A remote stamp further ahead of our wall clock than this is refused: one bad clock must not drag every machine into the future. */
export const hlcFutureDriftMsMax = 24 * 60 * 60 * 1000;
/** Origin names: a NATS subject token (no `.`, `*`, `>` or spaces), short enough for a message id. */
const originPattern = /^[A-Za-z0-9_-]{1,64}$/;
const hlcPattern = /^[0-9a-f]{18}$/;

export interface HlcParts {
  wall: number;
  counter: number;
}

export function formatHlc(wall: number, counter: number): string {
  return wall.toString(16).padStart(wallHexChars, '0') + counter.toString(16).padStart(counterHexChars, '0');
}

export function parseHlc(hlc: string): HlcParts {
  return { wall: parseInt(hlc.slice(0, wallHexChars), 16), counter: parseInt(hlc.slice(wallHexChars), 16) };
}

export function isHlc(value: unknown): value is string {
  return typeof value === 'string' && hlcPattern.test(value);
}

export function isOrigin(value: unknown): value is string {
  return typeof value === 'string' && originPattern.test(value);
}

/** Throws VALIDATION_FAILED naming `field` unless `origin` is a usable origin name. */
export function checkOrigin(origin: unknown, field: string): string {
  if (!isOrigin(origin)) throw mnemoError('VALIDATION_FAILED', { field, reason: `expected 1 to 64 of A-Z a-z 0-9 _ -, got ${JSON.stringify(origin)}` });
  return origin;
}

/** The total order of events: clock first, origin as the tie-break. */
export function stampOf(hlc: string, origin: string): string {
  return hlc + origin;
}

export class HybridClock {
  private wall = 0;
  private counter = 0;

  constructor(private readonly now: () => number = Date.now) {}

  /** A stamp greater than every stamp this clock has issued or received. */
  tick(): string {
    const physical = this.now();
    if (physical > this.wall) {
      this.wall = physical;
      this.counter = 0;
    } else if (this.counter < counterMax) this.counter++;
    else {
      this.wall++;
      this.counter = 0;
    }
    return formatHlc(this.wall, this.counter);
  }

  /** Moves the clock past a stamp seen elsewhere (a received event, or our own log at open). */
  receive(hlc: string): void {
    const { wall, counter } = parseHlc(hlc);
    if (wall > this.wall || (wall === this.wall && counter > this.counter)) {
      this.wall = wall;
      this.counter = counter;
    }
  }

  /** Whether a remote stamp is too far ahead of this machine's wall clock to accept. */
  tooFarAhead(hlc: string): boolean {
    return parseHlc(hlc).wall > this.now() + hlcFutureDriftMsMax;
  }

  get current(): string {
    return formatHlc(this.wall, this.counter);
  }
}
