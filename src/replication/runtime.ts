// The NATS side of replicated mode: one connection, a publisher for this origin's batches and a
// durable consumer for everyone else's. Local first: the engine logs and fsyncs an append before
// the publisher sees it, and nothing here can fail an append (except with ack 'stream', which waits).
//
// Publisher. Each local batch is published as one message (wire.ts) while connected. The backlog
// is the WAL itself: batches that could not be published stay in the log, and on every (re)connect
// and every resyncIntervalMs the publisher reads the stream's last message on its own subject and
// republishes from the log whatever comes after it. That also refills a stream that lost its tail
// (Debian's nats-server 2.9 syncs its files every 2 minutes) or was deleted and recreated.
//
// Consumer. A durable pull consumer per machine over `<stream>.>`, acked message by message after
// the engine logged it. The merge step skips what it already merged, so a redelivery is a no-op.
// The machine keeps its own account of what it logged (every stream seq through appliedThrough),
// and does not trust the consumer's: on nats-server 2.9 a consumer whose leader died can come back
// claiming nothing pending while messages it delivered into the dead server were never acked. So
// when nothing arrives for consumerStallMs while the stream holds seqs past appliedThrough (its
// server died, its leader moved, the stream was recreated), the consumer is replaced by a new one
// from appliedThrough + 1 (from the start when the stream is new). The same is done at once when a
// new connection or a reconnect finds acks pending while nothing is being logged here (those
// messages went into the connection that died, and would otherwise come again only after the ack
// wait), and when the consumer's info goes unanswered (its server is down). A replacement gets a
// new name (durableOf) and one copy: made at once on a server that is up, with no election, and
// not held up by the old one's delete, which goes on in the background until it succeeds.
//
// Connection. Pings every second, two missed and the connection is stale: it is closed without the
// client's flush (which waits on the dead socket until TCP retransmits after the link returns) and
// a new one is made; every publisher request gives up when the connection drops.

import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager, type JsMsg, type ConsumerInfo, type ConsumerMessages } from '@nats-io/jetstream';
import { connect, headers, type NatsConnection } from '@nats-io/transport-node';

import type { ReplicationOptions, ReplicationStats } from '../kernel/api.js';
import { isMnemoError, mnemoError } from '../kernel/errors.js';
import { encodeEvents } from '../kernel/event-codec.js';
import type { RawEvent, StoredEvent } from '../kernel/events.js';
import { parseHlc } from './hlc.js';
import type { MergeStats } from './merge.js';
import { decodeBatch, lastSeqHeader, messageIdOf, subjectOf } from './wire.js';

/** How often the publisher checks the stream still holds all of this origin's events (one request). */
export const resyncIntervalMs = 2_000;
/** A consumer that delivers nothing for this long while the stream holds seqs not yet logged here is recreated. */
export const consumerStallMs = 1_000;
/** The same for a consumer this runtime just made, before its first delivery (on a loaded machine the first took over a second). */
const freshConsumerStallMs = 5_000;
/** At start (this process's position not yet known), info requests for the durable that go unanswered before it is made anew from seq 1. */
const startInfoTriesMax = 5;
/** Local batches kept in memory for publishing; past this they are published from the WAL on the next resync. */
export const publishQueueBatchesMax = 1_024;
/** Unacknowledged deliveries come again after this (ns); logging a message takes far less. */
const ackWaitNs = 5 * 1_000_000_000;
/** Bytes a pull asks for at once (a 1000-event graph batch is ~66 KB). */
const consumeBytesMax = 4 * 1024 * 1024;
/** Received messages logged and not yet durable at once (they share fsyncs). */
const applyInFlightMax = 64;
/** Events per message when republishing from the WAL. */
export const republishBatchEvents = 1_000;
/** JetStream's dedupe window for message ids: a retry within it is dropped by the server. */
const duplicateWindowNs = 120 * 1_000_000_000;
/** One publish. */
const requestTimeoutMs = 5_000;
/**
 * One stream or consumer request (info, add, delete, get a message). Such a request goes unanswered
 * while the stream or consumer has no leader (its server died and the rest are electing one): it
 * is asked again sooner, and so answered soon after the election.
 */
const managementTimeoutMs = 2_000;
/** One connection attempt; a link that comes back is found at the next attempt's SYN, not after a long one. */
const connectTimeoutMs = 2_000;
const streamDefault = 'mnemo';

/** What the runtime needs of the engine. */
export interface ReplicaHost {
  origin: string;
  lastSeq(): number;
  onLocalBatch(listener: (firstSeq: number, count: number, payload: Uint8Array) => void): void;
  localEvents(fromSeq: number): Iterable<StoredEvent>;
  /** The event the log holds at `seq` (of any origin), or undefined. */
  loggedAt(seq: number): StoredEvent | undefined;
  /** Whether the event of `origin` stamped `hlc` is merged here (logged, or older than one that is). */
  hasMerged(origin: string, hlc: string): boolean;
  /** The hlc of this origin's newest logged event; undefined when it never wrote one. */
  newestLocalHlc(): string | undefined;
  applyReceived(origin: string, events: ReadonlyArray<RawEvent & { hlc: string }>): Promise<{ applied: number; skipped: number }>;
  mergeStats(): MergeStats;
  warn(message: string): void;
}

export interface ReplicationRuntime {
  stats(): ReplicationStats;
  /**
   * With ack 'stream', resolves once the stream holds every local event through `seq`; else at once.
   * Rejects with REPLICATION_REFUSED once this origin's publishing is refused (see checkOwnInStream).
   */
  acknowledged(seq: number): Promise<void>;
  /** Whether the consumer is draining a backlog: its last delivery, under consumerStallMs ago, said more were waiting, or some are still being logged. */
  catchingUp(): boolean;
  /** Why local writes and publishing are refused (this log is not the one that wrote this origin's events in the stream); null while all is well. */
  refused(): string | null;
  stop(): Promise<void>;
}

interface QueuedBatch {
  firstSeq: number;
  lastSeq: number;
  /** Its last event's hlc. */
  lastHlc: string;
  payload: Uint8Array;
}

export async function startReplication(host: ReplicaHost, options: ReplicationOptions): Promise<ReplicationRuntime> {
  const runtime = new Replication(host, options);
  runtime.start();
  return runtime;
}

class Replication implements ReplicationRuntime {
  private readonly stream: string;
  private readonly subject: string;
  /** This machine's consumer: found at the first connection, renamed each time it is replaced. */
  private durable: string | undefined;
  private nc: NatsConnection | undefined;
  private js: JetStreamClient | undefined;
  private jsm: JetStreamManager | undefined;
  private stopped = false;
  private connected = false;

  // publisher
  private readonly queue: QueuedBatch[] = [];
  /** Local events the queue dropped (they are in the WAL): the next resync publishes them. */
  private overflowed = false;
  /** Local events dropped from the queue by overflow, until a resync publishes them. */
  private unqueued = 0;
  /** Every local event through this seq is in the stream. */
  private publishedThrough = 0;
  /**
   * What a resync need not read again: every local event through log seq verifiedThrough was in the
   * stream, the last of them lastLocalVerified. While the stream still holds that one, a resync
   * reads the log only past both (an idle machine's check read every remote event since its own
   * last write, every 2 s: seconds of decoding at a few hundred thousand events).
   */
  private verifiedThrough = 0;
  private lastLocalVerified = 0;
  private publishing = false;
  private resyncWanted = true;
  private republished = 0;
  private lastResyncAt = 0;
  private readonly waiters: Array<{ seq: number; resolve: () => void; reject: (e: Error) => void }> = [];
  /** Why nothing is published under this origin in this process (see checkOwnInStream); null while all is well. */
  private refusal: string | null = null;
  /**
   * The stream's last message of this origin as last published or found to match this log:
   * `<seq>:<hlc>`. (A resync racing a new local write finds the stream one batch behind the
   * newest local event; reading the log for it each time stalled the event loop 100–250 ms.)
   */
  private ownChecked = '';
  /** Rejects when the connection drops: a publish in flight then gives up at once instead of after its timeout. */
  private connectionLost!: Promise<never>;
  private loseConnection: () => void = () => {};

  // consumer
  private messages: ConsumerMessages | undefined;
  private lastStreamSeqApplied = 0;
  /** Every stream seq through this one is logged here (or is not in the stream). */
  private appliedThrough = 0;
  /** Seqs logged above appliedThrough (redeliveries can come out of order). */
  private readonly appliedAbove = new Set<number>();
  /** A consumer this runtime created (from appliedThrough + 1) has not delivered yet. */
  private freshConsumer = false;
  /** The stall check found the consumer delivering nothing: the consume loop replaces it, whatever its acks pending. */
  private consumerStalled = false;
  /** A stall check is under way (the timer does not start a second one meanwhile). */
  private checking = false;
  /** This process has had a consumer delivering: appliedThrough is its own account, and a consumer can be made from it. */
  private positionKnown = false;
  /** Info requests for the durable gone unanswered in a row. */
  private infoFailures = 0;
  /** The consume loop's last warning, so that one failing again and again is said once. */
  private loopWarning = '';
  /** Consumers of this machine that were replaced, still to be deleted. */
  private readonly abandoned = new Set<string>();
  private deleting = false;
  /** Messages handled and not yet logged and acked. */
  private applying = 0;
  /** The consume loop has a consumer delivering (and so knows appliedThrough); false while it finds or makes one. */
  private consumerReady = false;
  private streamCreated = '';
  private lastDeliveryAt = Date.now();
  /** Messages the consumer still held for this machine at the last delivery. */
  private behind = 0;
  private lagMs = 0;
  private rejected = 0;
  private lastRejection: string | null = null;
  private consuming: Promise<void> | undefined;
  private inFlight: Array<Promise<void>> = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly host: ReplicaHost, private readonly options: ReplicationOptions) {
    this.stream = options.stream ?? streamDefault;
    this.subject = subjectOf(this.stream, host.origin);
  }

  start(): void {
    this.armConnectionLost();
    // Called as the batch is logged: the origin's newest hlc is its last event's.
    this.host.onLocalBatch((firstSeq, count, payload) => this.enqueue({ firstSeq, lastSeq: firstSeq + count - 1, lastHlc: this.host.newestLocalHlc()!, payload }));
    void this.connectLoop();
    this.timer = setInterval(() => void this.tick(), Math.min(resyncIntervalMs, consumerStallMs) / 2);
    this.timer.unref();
  }

  stats(): ReplicationStats {
    const merge = this.host.mergeStats();
    return {
      origin: this.host.origin,
      stream: this.stream,
      connected: this.connected,
      lastStreamSeqApplied: this.lastStreamSeqApplied,
      publishBacklog: this.backlog(),
      lagMs: this.lagMs,
      rejected: this.rejected,
      lastRejection: this.lastRejection,
      pendingNodes: merge.pendingNodes,
      pendingDropped: merge.pendingDropped,
      republished: this.republished,
      refused: this.refusal,
    };
  }

  catchingUp(): boolean {
    return (this.behind > 0 || this.applying > 0) && Date.now() - this.lastDeliveryAt < consumerStallMs;
  }

  refused(): string | null {
    return this.refusal;
  }

  acknowledged(seq: number): Promise<void> {
    if (this.options.ack !== 'stream' || seq <= this.publishedThrough) return Promise.resolve();
    if (this.refusal !== null) return Promise.reject(mnemoError('REPLICATION_REFUSED', { reason: this.refusal }));
    return new Promise((resolve, reject) => this.waiters.push({ seq, resolve, reject }));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    this.messages?.stop();
    await this.consuming?.catch(() => {});
    await this.nc?.close().catch(() => {});
    for (const waiter of this.waiters.splice(0)) waiter.resolve();
  }

  // ---- connection ----

  private async connectLoop(): Promise<void> {
    while (!this.stopped) {
      try {
        const nc = await connect({
          servers: this.options.servers,
          name: `mnemo-${this.host.origin}`,
          reconnect: true,
          maxReconnectAttempts: -1,
          reconnectTimeWait: 250,
          // Dead servers must be noticed in seconds, not the default minutes.
          pingInterval: 1_000,
          maxPingOut: 2,
          timeout: connectTimeoutMs,
        });
        if (this.stopped) {
          await nc.close();
          return;
        }
        this.nc = nc;
        this.js = jetstream(nc, { timeout: requestTimeoutMs });
        // checkAPI false: no account-info round trip here; a cluster still forming would fail it, and every later call retries anyway.
        this.jsm = await jetstreamManager(nc, { timeout: managementTimeoutMs, checkAPI: false });
        this.connected = true;
        this.resyncWanted = true;
        void this.watchStatus(nc);
        this.consuming = this.consumeLoop(nc);
        void this.pump();
        return;
      } catch (e) {
        this.connected = false;
        await sleep(250);
      }
    }
  }

  private async watchStatus(nc: NatsConnection): Promise<void> {
    for await (const status of nc.status()) {
      if (status.type === 'disconnect') {
        this.connected = false;
        this.loseConnection();
      }
      if (status.type === 'staleConnection') {
        // Pings went unanswered: the link is down (a partition) or the server hung. The client's own
        // reconnect first flushes the dead socket, which waits for TCP to retransmit after the link
        // returns: after a cut of a minute, that is up to a minute more. Close without a flush and
        // connect anew instead.
        this.connected = false;
        this.loseConnection();
        await nc.close().catch(() => {});
        if (!this.stopped) {
          // Its consume loop ends with it (bounded: a loop stuck in a request must not hold the new connection back).
          await Promise.race([this.consuming?.catch(() => {}), sleep(requestTimeoutMs)]);
          this.armConnectionLost();
          void this.connectLoop();
        }
        return;
      }
      if (status.type === 'reconnect') {
        this.armConnectionLost();
        this.connected = true;
        this.resyncWanted = true;
        void this.pump();
        // Messages delivered into the connection that died: the consume loop starts over, and
        // ensureConsumer recreates the consumer when it holds such deliveries.
        this.lastDeliveryAt = Date.now();
        this.messages?.stop();
      }
    }
  }

  private async tick(): Promise<void> {
    if (this.stopped || !this.connected) return;
    // The periodic check runs when the publisher is idle: while the queue drains, each publish's ack already says the stream has it.
    if (this.queue.length === 0 && Date.now() - this.lastResyncAt >= resyncIntervalMs) this.resyncWanted = true;
    void this.pump();
    if (this.abandoned.size > 0 && !this.deleting) {
      this.deleting = true;
      void this.deleteAbandoned().finally(() => (this.deleting = false));
    }
    await this.checkConsumer();
  }

  // ---- publisher ----

  private enqueue(batch: QueuedBatch): void {
    if (this.queue.length >= publishQueueBatchesMax) {
      // The log holds them: drop the memory copies and let the next resync publish from it.
      for (const queued of this.queue) this.unqueued += queued.lastSeq - queued.firstSeq + 1;
      this.queue.length = 0;
      this.overflowed = true;
      this.resyncWanted = true;
    }
    if (this.overflowed) this.unqueued += batch.lastSeq - batch.firstSeq + 1;
    else this.queue.push(batch);
    void this.pump();
  }

  /** Local events logged and not yet known to be in the stream (those still only in the log count once a resync reads them). */
  private backlog(): number {
    let backlog = 0;
    for (const batch of this.queue) if (batch.lastSeq > this.publishedThrough) backlog += batch.lastSeq - batch.firstSeq + 1;
    return backlog + this.unqueued;
  }

  /** Publishes what is queued (after a resync when one is wanted), one batch at a time, in order. */
  private async pump(): Promise<void> {
    if (this.publishing || this.stopped || !this.connected || this.refusal !== null) return;
    this.publishing = true;
    try {
      while (!this.stopped && this.connected && this.refusal === null) {
        if (this.resyncWanted) {
          this.resyncWanted = false;
          await this.resync();
          continue;
        }
        const batch = this.queue[0];
        if (batch === undefined) break;
        if (batch.lastSeq > this.publishedThrough) await this.publish(batch.firstSeq, batch.lastSeq, batch.lastHlc, batch.payload);
        this.queue.shift();
        this.advance(batch.lastSeq);
        // Unless the queue dropped batches since the last resync, every local event up to this batch went through it.
        if (!this.overflowed) this.verified(batch.lastSeq, batch.lastSeq);
      }
    } catch (e) {
      // Disconnected, a timeout, or the stream is gone: the log keeps everything; resync on the next tick or reconnect.
      this.resyncWanted = true;
    } finally {
      this.publishing = false;
    }
  }

  private async publish(firstSeq: number, lastSeq: number, lastHlc: string, payload: Uint8Array): Promise<void> {
    const h = headers();
    h.set(lastSeqHeader, String(lastSeq));
    await this.untilLost(this.js!.publish(this.subject, payload, { msgID: messageIdOf(this.host.origin, firstSeq), headers: h, timeout: requestTimeoutMs }));
    // What this process put in the stream is this log's: checkOwnInStream need not read the log for it.
    this.ownChecked = `${lastSeq}:${lastHlc}`;
  }

  /**
   * A publisher's request, given up as soon as the connection drops: one written into a connection
   * that then died is never answered, and waiting out its timeout held the publisher (and a healed
   * partition's republish) for seconds after the reconnect.
   */
  private untilLost<T>(request: Promise<T>): Promise<T> {
    return Promise.race([request, this.connectionLost]);
  }

  private armConnectionLost(): void {
    this.connectionLost = new Promise<never>((_, reject) => {
      this.loseConnection = () => reject(new Error('disconnected from NATS'));
    });
    this.connectionLost.catch(() => {}); // handled where raced; nobody may be publishing when it drops
  }

  private verified(through: number, lastLocal: number): void {
    this.verifiedThrough = Math.max(this.verifiedThrough, through);
    this.lastLocalVerified = Math.max(this.lastLocalVerified, lastLocal);
  }

  private advance(seq: number): void {
    if (seq <= this.publishedThrough) return;
    this.publishedThrough = seq;
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      if (this.waiters[i]!.seq > seq) continue;
      this.waiters[i]!.resolve();
      this.waiters.splice(i, 1);
    }
  }

  /** Reads how far the stream holds this origin's events and republishes the rest from the log. */
  private async resync(): Promise<void> {
    this.lastResyncAt = Date.now();
    await this.untilLost(this.ensureStream());
    const { seq: inStream, hlc: inStreamHlc } = await this.untilLost(this.lastInStream());
    if (!this.checkOwnInStream(inStream, inStreamHlc)) return;
    const upTo = this.host.lastSeq();
    const newestLocal = this.host.newestLocalHlc();
    let batch: StoredEvent[] = [];
    const flush = async (): Promise<void> => {
      if (batch.length === 0) return;
      const first = batch[0]!;
      const last = batch[batch.length - 1]!;
      const { payload } = encodeEvents(batch, last.ts, { origin: this.host.origin, hlcs: batch.map((e) => e.hlc!) });
      await this.publish(first.seq, last.seq, last.hlc!, payload);
      this.republished += batch.length;
      this.advance(last.seq);
      batch = [];
    };
    this.publishedThrough = inStream;
    // The stream holds this origin's newest event (or it never wrote one): nothing to read. Else, when
    // the stream lost nothing verified before (a lost tail or a new stream ends below it), read only
    // what came after; a machine that restarted reads from its last event in the stream.
    const from = newestLocal === undefined || newestLocal === inStreamHlc ? upTo + 1 : inStream >= this.lastLocalVerified ? Math.max(inStream, this.verifiedThrough) + 1 : inStream + 1;
    let lastLocal = inStream;
    for (const event of this.host.localEvents(from)) {
      if (event.seq > upTo) break;
      if (event.hlc === undefined) continue; // written before replication: no stamp to merge by
      if (batch.length > 0 && (event.seq !== batch[batch.length - 1]!.seq + 1 || batch.length >= republishBatchEvents)) await flush();
      batch.push(event);
      lastLocal = event.seq;
    }
    await flush();
    this.advance(upTo);
    this.verified(upTo, lastLocal);
    this.overflowed = false;
    this.unqueued = 0;
    while (this.queue[0] !== undefined && this.queue[0].lastSeq <= upTo) this.queue.shift();
  }

  /**
   * Whether the stream's last message of this origin (its last event at local seq `seq`, stamped
   * `hlc`) is this log's: the same event at the same seq. It is not when the data dir was wiped, or
   * lost a tail it had published (durability none or interval and a crash), or another process
   * writes under this origin. This log's new events would then take seqs, and so message ids
   * (`<origin>:<seq>`), that the stream already holds for other events: JetStream drops a reused id
   * within its duplicate window as a retry, and the resync would count them as published. So this
   * process publishes nothing more and the engine refuses local writes (REPLICATION_REFUSED), which
   * would otherwise stay on this machine alone; reads and received events go on, and the reason is
   * in stats (`refused`), health and the log. Restarted under a new origin, the machine takes the
   * stream's events in again, this origin's old ones included.
   */
  private checkOwnInStream(seq: number, hlc: string | undefined): boolean {
    if (this.refusal !== null) return false;
    // The newest local event being the stream's last: the same event (an hlc is unique within an origin).
    if (hlc === undefined || `${seq}:${hlc}` === this.ownChecked || hlc === this.host.newestLocalHlc()) return true;
    const logged = this.host.loggedAt(seq);
    if (logged !== undefined && logged.origin === this.host.origin && logged.hlc === hlc) {
      this.ownChecked = `${seq}:${hlc}`;
      return true;
    }
    this.refusal =
      `the stream holds an event of origin ${this.host.origin} (local seq ${seq}, hlc ${hlc}) that this data dir's log does not: ` +
      `it was wiped or lost events it had published, or another machine writes as ${this.host.origin}. ` +
      `Nothing more is published or written here as ${this.host.origin} (new events would reuse its seqs); restart with a new --origin, which also takes the stream's events in again`;
    this.host.warn(`replication: ${this.refusal}`);
    for (const waiter of this.waiters.splice(0)) waiter.reject(mnemoError('REPLICATION_REFUSED', { reason: this.refusal }));
    return false;
  }

  /** The last local seq the stream holds (its last message on this origin's subject), and that event's hlc. */
  private async lastInStream(): Promise<{ seq: number; hlc: string | undefined }> {
    try {
      const last = await this.jsm!.streams.getMessage(this.stream, { last_by_subj: this.subject });
      if (last === null) return { seq: 0, hlc: undefined };
      const events = decodeBatch(last.data, this.host.origin, Date.now());
      return { seq: Number(last.header.get(lastSeqHeader)) || 0, hlc: typeof events === 'string' ? undefined : events[events.length - 1]?.hlc };
    } catch (e) {
      if (isNotFound(e)) return { seq: 0, hlc: undefined };
      throw e;
    }
  }

  private async ensureStream(): Promise<void> {
    try {
      const info = await this.jsm!.streams.info(this.stream);
      this.noteStream(info.created);
      return;
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
    // Three copies, or one per server when the cluster is smaller. While a cluster is still forming,
    // placement fails: the error propagates and the next tick tries again (never fewer copies than asked).
    const clusterSize = Math.max(1, this.nc?.info?.connect_urls?.length ?? this.options.servers.length);
    try {
      const info = await this.jsm!.streams.add({ name: this.stream, subjects: [`${this.stream}.>`], num_replicas: Math.min(3, clusterSize), duplicate_window: duplicateWindowNs });
      this.noteStream(info.created);
    } catch (e) {
      if (!/already in use|exists/i.test(String((e as Error).message))) throw e;
    }
  }

  /** A stream created at another time is another stream: its seqs start over. */
  private noteStream(created: string): void {
    if (this.streamCreated !== '' && this.streamCreated !== created) {
      this.lastStreamSeqApplied = 0;
      this.appliedThrough = 0;
      this.appliedAbove.clear();
    }
    this.streamCreated = created;
  }

  // ---- consumer ----

  /** Consumes over `nc` until it closes (a new connection runs a loop of its own). */
  private async consumeLoop(nc: NatsConnection): Promise<void> {
    while (!this.stopped && !nc.isClosed()) {
      try {
        this.consumerReady = false; // no stall check while the consumer is found or made
        await this.ensureStream();
        await this.ensureConsumer();
        const consumer = await this.js!.consumers.get(this.stream, this.durable!);
        // Pull a bounded number of bytes at a time: a pull of hundreds of 66 KB batches (13 MB) outran a
        // busy engine, and the server cut the connection as a slow consumer (then the acks waited 30 s).
        const messages = await consumer.consume({ max_bytes: consumeBytesMax, expires: 2_000 });
        this.messages = messages;
        // Stopped while the consumer was being made: stop() found no messages to stop, and an idle
        // stream would hold this loop (and so stop()) forever.
        if (this.stopped) messages.stop();
        this.lastDeliveryAt = Date.now();
        this.consumerReady = true;
        this.positionKnown = true;
        this.loopWarning = '';
        for await (const message of messages) {
          if (this.stopped) break;
          await this.handle(message);
        }
        await this.settle();
      } catch (e) {
        this.warnOnce(`replication: the consumer is not ready (${e instanceof Error ? e.message : String(e)}); trying again`);
        await this.settle().catch(() => {});
        if (!this.stopped) await sleep(250);
      }
    }
  }

  /** Finds this machine's consumer (its newest, at start), or makes one: `this.durable` names it after. */
  private async ensureConsumer(): Promise<void> {
    this.freshConsumer = false;
    if (this.durable === undefined) this.durable = await this.newestDurable();
    const info = this.durable === undefined ? null : await this.consumerInfo(this.durable);
    if (info !== null && info !== 'unreachable' && (await this.keepConsumer(info))) return;
    // Not found, or to be replaced: a new one under a new name, so that neither a delete still
    // under way nor a server that holds the old one and is down can stand in the way. The old one
    // is deleted in the background.
    if (this.durable !== undefined) this.abandoned.add(this.durable);
    await this.addConsumer(durableOf(this.host.origin, Date.now()));
  }

  /**
   * The newest of this origin's consumers on the stream; older ones are deleted in the background.
   * The newest was made from its run's appliedThrough + 1, so its ack floor is the furthest that run
   * is known to have logged.
   */
  private async newestDurable(): Promise<string | undefined> {
    let newest: { name: string; made: number } | undefined;
    for await (const info of this.jsm!.consumers.list(this.stream)) {
      const made = generationOf(info.name, this.host.origin);
      if (made === undefined) continue;
      if (newest !== undefined && newest.made >= made) this.abandoned.add(info.name);
      else {
        if (newest !== undefined) this.abandoned.add(newest.name);
        newest = { name: info.name, made };
      }
    }
    return newest?.name;
  }

  /** Whether the consumer found can go on delivering; sets appliedThrough from it when this process has no account yet. */
  private async keepConsumer(info: ConsumerInfo): Promise<boolean> {
    // A durable left by this machine's last run: everything it acked was logged before the ack,
    // unless this data dir is not that run's (wiped, or its tail lost): then from the start.
    const floor = info.ack_floor.stream_seq;
    if (this.appliedThrough === 0 && floor > 0 && !(await this.loggedHere(floor))) {
      this.host.warn(`replication: consumer ${info.name} acknowledged stream seqs through ${floor}, but this data dir's log lacks seq ${floor}'s events (it was wiped or lost its tail); taking the stream in again from seq 1`);
      return false;
    }
    if (this.appliedThrough === 0) this.appliedThrough = floor;
    // Acks pending while nothing is being logged here: delivered into a connection (or a run) that
    // is gone, or logged with their acks lost. The server would send them again only after ackWaitNs
    // (a healed partition waited 5 s for them): make a new consumer from appliedThrough + 1 now.
    return !this.consumerStalled && (info.num_ack_pending === 0 || this.applying > 0);
  }

  private async addConsumer(name: string): Promise<void> {
    // From the first seq not logged here: the merge skips what a redelivery brings twice. Not from
    // the highest seq seen: a delivery lost with a dead server would sit below it, never to come again.
    const from = this.appliedThrough + 1;
    await this.jsm!.consumers.add(this.stream, {
      durable_name: name,
      ack_policy: AckPolicy.Explicit,
      filter_subject: `${this.stream}.>`,
      ...(from > 1 ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: from } : { deliver_policy: DeliverPolicy.All }),
      max_ack_pending: 1_024,
      // A delivery lost with its server comes again after this, not after the default 30 s.
      ack_wait: ackWaitNs,
      // One copy. The machine keeps its own account of what it logged, so a copy lost with its
      // server costs only a new consumer, made at once on a server that is up. A replicated one
      // elects a leader first: on a loaded machine that took 10 s and more after its server was
      // killed, and a consumer made anew took longer to answer than a request's timeout.
      num_replicas: 1,
    });
    this.durable = name;
    this.consumerStalled = false;
    this.freshConsumer = true;
  }

  /**
   * The consumer's info; null when there is none; 'unreachable' when no server answers for it (its
   * server is down). This process then makes a new one from its own account; at start, without
   * one, after startInfoTriesMax tries, from seq 1 (the merge skips what the log holds).
   */
  private async consumerInfo(name: string): Promise<ConsumerInfo | null | 'unreachable'> {
    try {
      const info = await this.jsm!.consumers.info(this.stream, name);
      this.infoFailures = 0;
      return info;
    } catch (e) {
      if (isNotFound(e)) return null;
      if (!this.positionKnown && ++this.infoFailures < startInfoTriesMax) throw e;
      this.warnOnce(`replication: consumer ${name} does not answer (${e instanceof Error ? e.message : String(e)}); making a new one from stream seq ${this.appliedThrough + 1}`);
      return 'unreachable';
    }
  }

  /** Deletes the consumers this machine replaced; one that cannot be deleted now is tried again later. */
  private async deleteAbandoned(): Promise<void> {
    for (const name of [...this.abandoned]) {
      if (name === this.durable) {
        this.abandoned.delete(name);
        continue;
      }
      try {
        await this.jsm!.consumers.delete(this.stream, name);
      } catch (e) {
        if (!isNotFound(e)) return;
      }
      this.abandoned.delete(name);
    }
  }

  private warnOnce(message: string): void {
    if (message === this.loopWarning) return;
    this.loopWarning = message;
    this.host.warn(message);
  }

  /** Whether the events of stream seq `seq` are in this log (true when that message is gone or refused: nothing to tell by). */
  private async loggedHere(seq: number): Promise<boolean> {
    let message;
    try {
      message = await this.jsm!.streams.getMessage(this.stream, { seq });
    } catch (e) {
      if (isNotFound(e)) return true;
      throw e;
    }
    if (message === null) return true;
    const origin = message.subject.slice(this.stream.length + 1);
    const events = decodeBatch(message.data, origin, Date.now());
    if (typeof events === 'string') return true;
    const last = events[events.length - 1]!.hlc;
    if (origin === this.host.origin) return this.checkOwnInStream(Number(message.header.get(lastSeqHeader)) || 0, last);
    return this.host.hasMerged(origin, last);
  }

  /** Has the consume loop recreate the consumer when it delivered nothing for consumerStallMs while the stream holds seqs not logged here. */
  private async checkConsumer(): Promise<void> {
    // Still logging what came, or still starting: not a stall. A check under way: not a second one.
    if (this.applying > 0 || !this.consumerReady || this.checking) return;
    const since = this.lastDeliveryAt;
    if (Date.now() - since <= (this.freshConsumer ? freshConsumerStallMs : consumerStallMs)) return;
    this.checking = true;
    try {
      const stream = await this.jsm!.streams.info(this.stream);
      this.noteStream(stream.created);
      if (stream.state.last_seq <= this.appliedThrough) {
        this.lastDeliveryAt = Date.now(); // nothing to deliver: not a stall
        return;
      }
      if (this.lastDeliveryAt !== since) return; // it delivered meanwhile
      this.host.warn(`replication: nothing delivered for ${Date.now() - since} ms while the stream holds seqs ${this.appliedThrough + 1}..${stream.state.last_seq}; recreating the consumer from seq ${this.appliedThrough + 1}`);
    } catch (e) {
      if (!isNotFound(e)) return; // unreachable now: the next tick asks again
    } finally {
      this.checking = false;
    }
    // The consume loop replaces it (whatever its acks pending) with a new one from appliedThrough + 1.
    this.consumerStalled = true;
    this.lastDeliveryAt = Date.now();
    this.messages?.stop();
  }

  /** Notes a stream seq as logged here (or refused for good) and moves appliedThrough over what is now contiguous. */
  private logged(seq: number): void {
    this.lastStreamSeqApplied = Math.max(this.lastStreamSeqApplied, seq);
    if (seq <= this.appliedThrough) return;
    this.appliedAbove.add(seq);
    while (this.appliedAbove.delete(this.appliedThrough + 1)) this.appliedThrough++;
  }

  /**
   * Logs a message's events at once (synchronously, in stream order) and acks it once they are
   * durable. Waiting for each fsync before logging the next message made catch-up one fsync per
   * message; instead up to applyInFlightMax messages share the WAL's group commit. A window, not a
   * barrier: waiting for all of them at once left the engine idle while the last fsync ran.
   */
  private async handle(message: JsMsg): Promise<void> {
    this.lastDeliveryAt = Date.now();
    this.behind = message.info.pending;
    if (this.freshConsumer) {
      // A new consumer delivers in stream order from appliedThrough + 1: the seqs it skipped are not in the stream.
      this.freshConsumer = false;
      if (message.seq > this.appliedThrough + 1) {
        this.appliedThrough = message.seq - 1;
        for (const seq of this.appliedAbove) if (seq <= this.appliedThrough) this.appliedAbove.delete(seq);
      }
    }
    const origin = message.subject.slice(this.stream.length + 1);
    const applied = origin === this.host.origin ? Promise.resolve() : this.apply(message.seq, origin, message.data);
    const seq = message.seq;
    this.applying++;
    const acked = applied
      .then(() => {
        this.logged(seq);
        message.ack(); // an ack lost with the connection only brings the message again, and the merge skips it
      })
      .finally(() => this.applying--);
    acked.catch(() => {}); // handled: awaited below or by settle(), where a failure stops the consume loop
    this.inFlight.push(acked);
    while (this.inFlight.length >= applyInFlightMax) await this.inFlight.shift();
  }

  /** Waits for the messages logged so far to be durable and acked; a failure (the engine cannot write) stops the consume loop. */
  private async settle(): Promise<void> {
    const inFlight = this.inFlight.splice(0);
    await Promise.all(inFlight);
  }

  /**
   * Decodes and logs a message's events; resolves once they are durable. Not an async function: one
   * would hold the decoded events in its suspended frame until the fsync, and up to
   * applyInFlightMax messages wait at once, so a catch-up's young objects outlived the young
   * generation's collections and were copied into the old one.
   */
  private apply(streamSeq: number, origin: string, body: Uint8Array): Promise<void> {
    const events = decodeBatch(body, origin, Date.now());
    if (typeof events === 'string') {
      this.reject(streamSeq, origin, events);
      return Promise.resolve();
    }
    const wall = parseHlc(events[events.length - 1]!.hlc).wall;
    return this.host.applyReceived(origin, events).then(
      () => {
        this.lagMs = Math.max(0, Date.now() - wall);
      },
      (e: unknown) => {
        if (!isMnemoError(e) || e.code === 'WAL_IO' || e.code === 'ENGINE_CLOSED') throw e; // the engine cannot write: do not ack
        this.reject(streamSeq, origin, e.message);
      },
    );
  }

  private reject(streamSeq: number, origin: string, reason: string): void {
    this.rejected++;
    this.lastRejection = `stream seq ${streamSeq} from ${origin}: ${reason}`;
    this.host.warn(`replication: refused ${this.lastRejection}`);
  }
}

/**
 * A consumer's name: `mnemo_<ms since 1970, base 36>_<origin>`. Each replacement gets a new one. An
 * origin is A-Z a-z 0-9 _ -, so the part before it has no `_` to confuse; `mnemo-<origin>`, the
 * one name of earlier versions, counts as the oldest.
 */
function durableOf(origin: string, madeMs: number): string {
  return `mnemo_${madeMs.toString(36)}_${origin}`;
}

/** When `name` was made, if it is a consumer of `origin` (durableOf); 0 for the old single name. */
function generationOf(name: string, origin: string): number | undefined {
  if (name === `mnemo-${origin}`) return 0;
  const match = /^mnemo_([0-9a-z]+)_(.+)$/.exec(name);
  return match !== null && match[2] === origin ? parseInt(match[1]!, 36) : undefined;
}

function isNotFound(e: unknown): boolean {
  const text = `${(e as { code?: unknown }).code ?? ''} ${(e as Error).message ?? ''}`;
  return /not found|404|10059|10014/i.test(text);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
