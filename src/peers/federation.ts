// The federated read: local results first, then every asked peer's `/peer/*` mirror in parallel
// within what is left of the deadline, merged by reciprocal rank fusion. A peer that is slow,
// dead, refusing or broken is reported and makes the answer degraded; it never fails the query.

import { hostname } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { Federated, FederationOptions, PeerReport, PeerSelection } from '../kernel/api.js';
import { MnemoError } from '../kernel/errors.js';
import { peerDeadlineMsDefault, peerDeadlineMsMax, peersMax } from '../kernel/limits.js';
import { PeerClient } from './client.js';
import { fuseRankings, type Ranking } from './fusion.js';
import type { PeerIdentity } from './identity.js';
import { peerProblem } from './config.js';

export const peerApiPrefix = '/peer/api/v1/prime';


/** A federated query: the peers to ask at `route` with `body`, and the local answer to merge with theirs. */
export interface MergeInput<T> {
  peers: PeerClient[];
  route: string;
  body: Record<string, unknown>;
  local: readonly T[];
  localCut: boolean;
  topK: number;
  startedMs: number;
  deadlineMs: number;
}

export class Federation {
  readonly origin: string;
  private readonly clients = new Map<string, PeerClient>();

  constructor(
    options: FederationOptions,
    private readonly identity: PeerIdentity | undefined,
  ) {
    this.origin = options.origin ?? hostname();
    if (options.peers.length > peersMax) throw invalid('federation.peers', `at most ${peersMax} peers, got ${options.peers.length}`);
    for (const peer of options.peers) {
      const problem = peerProblem(peer);
      if (problem !== null) throw invalid('federation.peers', problem);
      if (this.clients.has(peer.name)) throw invalid('federation.peers', `peer '${peer.name}' is named twice`);
      this.clients.set(peer.name, new PeerClient(peer, options.ca));
    }
  }

  get peerNames(): string[] {
    return [...this.clients.keys()];
  }

  /** The clients a selection names; an unknown name is a 400 naming it. */
  select(selection: PeerSelection): PeerClient[] {
    if (selection === true) return [...this.clients.values()];
    if (!Array.isArray(selection)) throw invalid('peers', 'expected true or a list of peer names');
    return selection.map((name, i) => {
      const client = typeof name === 'string' ? this.clients.get(name) : undefined;
      if (client === undefined) throw invalid(`peers[${i}]`, `unknown peer ${JSON.stringify(name)}; configured: ${this.peerNames.join(', ') || 'none'}`);
      return client;
    });
  }

  /**
   * Asks `peers` at `route` (e.g. '/recall') with `body`, merges their results with `local`
   * (computed already) by RRF, and keeps the best `topK`. `startedMs` is when the query began
   * (performance.now()): the deadline counts from it.
   */
  async merge<T extends { id: string; score: number }>(input: MergeInput<T>): Promise<Federated<T>> {
    const remainingMs = Math.max(1, Math.round(input.deadlineMs - (performance.now() - input.startedMs)));
    const outcomes = await Promise.all(input.peers.map((peer) => peer.ask(`${peerApiPrefix}${input.route}`, { ...input.body, deadline_ms: remainingMs }, remainingMs, this.identity)));
    const rankings: Array<Ranking<T>> = [{ origin: this.origin, results: input.local }];
    const reports: PeerReport[] = [];
    let degraded = input.localCut;
    for (const { report, body } of outcomes) {
      reports.push(report);
      if (report.status !== 'ok' || body === undefined) {
        degraded = true;
        continue;
      }
      if (body.degraded === true) degraded = true;
      rankings.push({ origin: report.name, results: wellFormed<T>(body.results as unknown[]) });
    }
    return { results: fuseRankings(rankings, input.topK), peers: reports, degraded };
  }

  close(): void {
    for (const client of this.clients.values()) client.close();
  }
}

/** `deadlineMs` checked: 1..peerDeadlineMsMax, default peerDeadlineMsDefault. */
export function deadlineOption(value: unknown): number {
  if (value === undefined) return peerDeadlineMsDefault;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > peerDeadlineMsMax) {
    throw invalid('deadline_ms', `expected an integer 1..${peerDeadlineMsMax} (milliseconds), got ${JSON.stringify(value) ?? String(value)}`);
  }
  return value;
}

/** A peer's rows with an id and a score; anything else it sent is dropped, never trusted into the ranking. */
function wellFormed<T>(rows: unknown[]): T[] {
  return rows.filter((row): row is T => typeof row === 'object' && row !== null && typeof (row as { id?: unknown }).id === 'string' && typeof (row as { score?: unknown }).score === 'number');
}

function invalid(field: string, reason: string): MnemoError {
  return new MnemoError('VALIDATION_FAILED', { field, reason });
}
