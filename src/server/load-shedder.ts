// Overload sheds, it does not queue. uWebSockets.js parses every request a connection has
// pipelined in one read before it returns to the event loop, so 100 clients pipelining thousands
// of requests each could hold the loop for seconds and starve everyone (/health included). Two
// bounds keep the loop turning:
// - a turn budget: once one event-loop turn has served httpTurnRequestsMax requests, or spent
//   httpTurnBudgetMs on at least httpTurnRequestsFloor of them, each further request in that turn
//   is answered 503 with Retry-After and its connection closed (which soon ends that connection's
//   pipeline);
// - an in-flight bound: requests outlive their handler (bodies arriving, writes awaiting fsync)
//   up to httpInFlightMax at once.
// /health is never shed: it is how an operator (or a load balancer) sees the server is alive.

import { MnemoError, limits } from '../index.js';
import type { Refusal } from './exposure.js';

export class LoadShedder {
  private turnStartMs = -1;
  private turnRequests = 0;
  private resetScheduled = false;
  private readonly resetTurn = (): void => {
    this.turnStartMs = -1;
    this.turnRequests = 0;
    this.resetScheduled = false;
  };
  shedTotal = 0;

  /** Null when the request may be served; else the 503 to answer (its connection is closed). `now` is performance.now() at the request's start. */
  admit(inFlight: number, now: number): Refusal | null {
    if (this.turnStartMs < 0) {
      this.turnStartMs = now;
      if (!this.resetScheduled) {
        this.resetScheduled = true;
        setImmediate(this.resetTurn);
      }
    } else if (++this.turnRequests > limits.httpTurnRequestsMax || (this.turnRequests >= limits.httpTurnRequestsFloor && now - this.turnStartMs > limits.httpTurnBudgetMs)) {
      return this.shed('the server has spent its time for this turn on other requests');
    }
    if (inFlight >= limits.httpInFlightMax) return this.shed(`${inFlight} requests are in flight (the limit is ${limits.httpInFlightMax})`);
    return null;
  }

  private shed(reason: string): Refusal {
    this.shedTotal++;
    return new MnemoError('OVERLOADED', { reason, retryAfterMs: limits.httpShedRetryAfterMs });
  }
}
