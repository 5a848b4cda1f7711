// A per-client token bucket (429 when empty). Keyed by remote address; the number of
// tracked clients is capped so a sweep of source addresses cannot grow memory.

import { MnemoError, limits } from '../index.js';
import type { Refusal } from './exposure.js';

export interface RateLimitOptions {
  /** Sustained requests per second per client; 0 turns the limit off. Default limits.httpRateLimitPerSecond. */
  perSecond?: number;
  /** Requests a client may make at once. Default limits.httpRateLimitBurst. */
  burst?: number;
  /**
   * Default true: loopback callers are the owner's own processes (and benchmarks), so
   * only other machines are limited.
   */
  exemptLoopback?: boolean;
}

interface Bucket {
  tokens: number;
  updatedMs: number;
}

export class RateLimiter {
  private readonly perSecond: number;
  private readonly burst: number;
  private readonly exemptLoopback: boolean;
  // A Map iterates in insertion order; re-inserting on use makes the first entry the stalest.
  private readonly buckets = new Map<string, Bucket>();

  constructor(options: RateLimitOptions = {}) {
    this.perSecond = options.perSecond ?? limits.httpRateLimitPerSecond;
    this.burst = options.burst ?? limits.httpRateLimitBurst;
    this.exemptLoopback = options.exemptLoopback ?? true;
  }

  /** Whether a caller (loopback or not) is limited at all; when not, the server skips reading its address as text. */
  applies(loopback: boolean): boolean {
    return this.perSecond > 0 && !(this.exemptLoopback && loopback);
  }

  /** Takes one token for `client` (a caller applies() to); null when it had one, else a 429 with the wait. */
  take(client: string, nowMs: number): Refusal | null {
    const bucket = this.refill(client, nowMs);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return null;
    }
    const retryAfterMs = Math.ceil(((1 - bucket.tokens) / this.perSecond) * 1000);
    return new MnemoError('RATE_LIMITED', { retryAfterMs });
  }

  private refill(client: string, nowMs: number): Bucket {
    let bucket = this.buckets.get(client);
    if (bucket === undefined) {
      bucket = { tokens: this.burst, updatedMs: nowMs };
    } else {
      this.buckets.delete(client);
      const earned = ((nowMs - bucket.updatedMs) / 1000) * this.perSecond;
      bucket.tokens = Math.min(this.burst, bucket.tokens + earned);
      bucket.updatedMs = nowMs;
    }
    this.buckets.set(client, bucket);
    if (this.buckets.size > limits.httpRateLimitClientsMax) {
      const stalest = this.buckets.keys().next().value as string;
      this.buckets.delete(stalest);
    }
    return bucket;
  }
}
