// One peer's circuit breaker. After peerFailuresToOpen failures in a row the peer is skipped
// (open) for peerCircuitOpenMs; then one query may ask it (half-open, the probe). A probe that
// succeeds closes the circuit; one that fails opens it again for twice as long, up to
// peerCircuitOpenMsMax. A dead peer then costs a query nothing instead of a deadline's wait.

import { peerCircuitOpenMs, peerCircuitOpenMsMax, peerFailuresToOpen } from '../kernel/limits.js';

export type CircuitState = 'closed' | 'open' | 'half-open';

export class CircuitBreaker {
  private failures = 0;
  private openUntilMs = 0;
  private openMs = peerCircuitOpenMs;
  private probing = false;

  /** May a query ask the peer now? 'open' means no; 'half-open' means yes, as the one probe. */
  admit(nowMs: number): CircuitState {
    if (this.failures < peerFailuresToOpen) return 'closed';
    if (this.probing || nowMs < this.openUntilMs) return 'open';
    this.probing = true;
    return 'half-open';
  }

  succeeded(): void {
    this.failures = 0;
    this.probing = false;
    this.openMs = peerCircuitOpenMs;
  }

  failed(nowMs: number): void {
    if (this.probing) this.openMs = Math.min(this.openMs * 2, peerCircuitOpenMsMax);
    this.probing = false;
    this.failures++;
    if (this.failures >= peerFailuresToOpen) this.openUntilMs = nowMs + this.openMs;
  }

  /** Milliseconds until the next probe is let through (0 when closed). */
  retryInMs(nowMs: number): number {
    return this.failures < peerFailuresToOpen ? 0 : Math.max(0, this.openUntilMs - nowMs);
  }
}
