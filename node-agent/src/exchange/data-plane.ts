// The agent's data plane (数据传输组件): named protocols over one link to the exchange center. This facade
// wires them and is what runners use; each protocol's design and invariants are in its own module.
//
// Module map (exchange/), in the order a unit travels:
//   batch.ts          one batch built in one place: RecordRun → packRun() → PackedBatch → sealed by the spool
//                     (the only assigner of sequences) into the envelope it stores; file chunk envelopes
//   link.ts           the one NATS connection: lazy connect, the abort signal and loops of every protocol
//   streams.ts        SenderStream (what receipts and recovery see of a stream) and each stream's state
//   readiness.ts      handshake: a stream's units wait until its consumer has an exchange task (or is silent)
//   publisher.ts      the one publish path: one window of async JetStream publishes, message ids, failure log
//   outbox.ts         record streams: the pump draining the spool outbox through the publisher; RecordStream
//   file-stream.ts    file streams: one transfer's chunks, read from the source file, through the same publisher
//   inbound.ts        consumer side: durable consumers → exchange task (record batches of one stream that have
//                     arrived together: one sink transaction) → ack → receipt
//   receipts.ts       the one receipt consumer: acknowledges a stream up to a receipt's position; gaps → recovery
//   recovery.ts       stall questions and gap re-sends: the one re-send strategy for records and files
//   progress.ts       the stream-progress protocol: asking (provider) and answering (consumer)
//   online.ts         request/reply outside the streams: online query (protobuf) and reconciliation (JSON)
// Runners keep only their steps: sync-runner.ts (+ sync-steps.ts), exchange-runner.ts, file-sync-runner.ts,
// file-receiver.ts (+ file-hash.ts, file-sweep.ts); what they all repeat is in runner-kit.ts (reports,
// counters, events, agreement gate, DataPathContext), quarantine-resend.ts and read-slots.ts.
import type { Logger } from 'pino';
import type { NodeIdentity } from '../identity.js';
import type { DataSpool } from '../spool/data-spool.js';
import type { ProgressReply, QueryReply } from '../transport/envelope.js';
import type { NatsTransport, Subjects } from '../transport/nats-transport.js';
import type { RouteTable } from '../transport/routing.js';
import { Inbound, type InboundHandler } from './inbound.js';
import { Link } from './link.js';
import { Online, type QueryHandler, type ReconcileHandler } from './online.js';
import { OutboxPump, RecordStream } from './outbox.js';
import { ProgressAsker, answerProgress } from './progress.js';
import { Publisher, type Outgoing, type PublishStats } from './publisher.js';
import { handshake } from './readiness.js';
import { Receipts } from './receipts.js';
import { Recovery } from './recovery.js';
import { StreamRegistry, type OutboundRoute, type SenderStream } from './streams.js';

export type { InboundHandler } from './inbound.js';
export type { OutboundRoute, SenderStream } from './streams.js';
export { streamKey } from './progress.js';

export interface DataPlaneSettings {
  /** Async JetStream publishes kept in flight, records and file chunks together (default 32). */
  publishWindow: number;
  /** Bytes of those publishes in flight at most, bytes (default 8 MiB; a larger unit goes alone). */
  publishWindowBytes: number;
  /** How long a published unit may wait for its receipt before the provider asks the consumer (ms, default 30 000). */
  receiptTimeoutMs: number;
  /** Record batches re-sent at most per stall of one task (default 64). */
  resendWindow: number;
  /** JetStream ack wait of the data consumers (ms, default 30 000). */
  ackWaitMs: number;
  /** How long a unit from a node outside its flow is redelivered before it is dropped (ms, default 300 000). */
  foreignBatchGraceMs: number;
}

export class DataPlane {
  private readonly link: Link;
  private readonly registry = new StreamRegistry();
  private readonly publisher: Publisher;
  private readonly pump: OutboxPump;
  private readonly asker: ProgressAsker;
  private readonly recovery: Recovery;
  private readonly receipts: Receipts;
  private readonly inbound: Inbound;
  private readonly online: Online;
  private sending = false;

  constructor(
    identity: NodeIdentity,
    private readonly spool: DataSpool,
    settings: DataPlaneSettings,
    logger: Logger,
  ) {
    this.link = new Link(identity, logger);
    this.publisher = new Publisher(settings.publishWindow, settings.publishWindowBytes, this.link.log);
    this.pump = new OutboxPump(this.link, spool, this.publisher, this.registry.waiting);
    this.asker = new ProgressAsker(this.link);
    this.recovery = new Recovery(this.link, this.registry, this.asker, settings, () => this.pump.kick());
    this.receipts = new Receipts(this.link, this.registry, this.recovery, spool);
    this.inbound = new Inbound(this.link, settings);
    this.online = new Online(this.link);
    const handlers = this.inbound.handlers;
    this.link.onConnect((t) =>
      t.subscribe(t.subjects.ctl(this.nodeId), async (m) => void m.respond(await answerProgress(m.data, handlers))),
    );
  }

  get nodeId(): string {
    return this.link.nodeId;
  }

  /** JetStream publishes since start: acked, failed, re-sends (the agent's /metrics). */
  get publishStats(): Readonly<PublishStats> {
    return this.publisher.stats;
  }

  get subjects(): Subjects {
    return this.link.subjects;
  }

  /**
   * The node moved to another exchange center (or its center's URLs changed): the link's protocols stop
   * at the old center and start at the new one, where they ensure their streams and consumers; streams
   * still in their readiness handshake ask again from there. Batches no receipt confirmed are re-sent by
   * recovery, wherever the routes now say.
   */
  async move(dataPlane: NodeIdentity['dataPlane']): Promise<void> {
    await this.link.move(dataPlane);
    for (const s of this.registry.all())
      if (s.phase === 'handshake' || s.phase === 'not-ready')
        void handshake(this.link, this.registry, this.asker, this.spool, s, () => this.pump.kick());
    this.pump.kick();
  }

  /** Where the data plane is now (URLs, home center, stream). */
  get location(): NodeIdentity['dataPlane'] {
    return this.link.dataPlane;
  }

  /** Routes to other exchange centers and the peers' centers (updated by the agent from its assignments). */
  get routes(): RouteTable {
    return this.link.routes;
  }

  /** The transport, connecting on first use. */
  connected(): Promise<NatsTransport> {
    return this.link.connected();
  }

  /** Largest envelope the broker accepts. */
  maxPayload(): number {
    return this.link.maxPayload();
  }

  /** The broker's max payload once connected, else undefined. */
  knownMaxPayload(): number | undefined {
    return this.link.knownMaxPayload();
  }

  /**
   * Registers a provider task's stream (its outbox, unless `stream` is given: a file task's transfer);
   * starts the readiness handshake, and on first use the publisher, receipt consumer and stall recovery.
   */
  registerOutbound(
    taskId: string,
    route: OutboundRoute,
    stream: SenderStream = new RecordStream(this.spool, taskId),
  ): void {
    const s = this.registry.add(taskId, route, stream);
    void handshake(this.link, this.registry, this.asker, this.spool, s, () => this.pump.kick());
    this.receipts.start();
    if (!this.sending) {
      this.sending = true;
      this.link.run(() => this.pump.run());
      this.link.run(() => this.recovery.run());
    }
    this.pump.kick();
  }

  /** A file task's next transfer: receipts and recovery now go to `stream` (readiness is kept). */
  replaceStream(taskId: string, stream: SenderStream): void {
    this.registry.replace(taskId, stream);
  }

  unregisterOutbound(taskId: string): void {
    this.registry.remove(taskId);
  }

  /** Whether the consumer of a provider task has answered that it is ready (or is offline). */
  isReady(taskId: string): boolean {
    return this.registry.isReady(taskId);
  }

  /** New batches are in the outbox. */
  notify(): void {
    this.pump.kick();
  }

  /** Publishes one unit of a file stream through the shared window (outbox batches go by the pump). */
  publish(t: NatsTransport, unit: Outgoing): Promise<void> {
    return this.publisher.send(t, unit);
  }

  /** Publishes of `unitBytes` each that may start now in the shared window (count and bytes). */
  publishRoom(unitBytes = 0): number {
    return this.publisher.room(unitBytes);
  }

  /** Calls `fn` whenever a publish settles; returns the unsubscribe. */
  onPublishSettled(fn: () => void): () => void {
    return this.publisher.onSettled(fn);
  }

  /**
   * Asks the consumer of a file-sending task how much of a file it has written. Undefined when it does
   * not answer (offline, or the broker is down): the caller must not take silence for "nothing".
   */
  async fileProgress(taskId: string, fileId: string, timeoutMs: number): Promise<Required<ProgressReply> | undefined> {
    const s = this.registry.get(taskId);
    if (!s || !this.link.current()) return undefined;
    return this.asker.ask(taskId, s.route, fileId, timeoutMs, fileId).catch(() => undefined);
  }

  registerInbound(subscriptionId: string, h: InboundHandler): void {
    this.inbound.register(subscriptionId, h);
  }

  unregisterInbound(subscriptionId: string): void {
    this.inbound.unregister(subscriptionId);
  }

  registerQuery(subscriptionId: string, h: QueryHandler): void {
    this.online.registerQuery(subscriptionId, h);
  }

  unregisterQuery(subscriptionId: string): void {
    this.online.unregisterQuery(subscriptionId);
  }

  registerQueryTarget(subscriptionId: string, providerNodeId: string): void {
    this.online.registerQueryTarget(subscriptionId, providerNodeId);
  }

  unregisterQueryTarget(subscriptionId: string): void {
    this.online.unregisterQueryTarget(subscriptionId);
  }

  query(subscriptionId: string, key: Record<string, string>, timeoutMs: number): Promise<QueryReply> {
    return this.online.query(subscriptionId, key, timeoutMs);
  }

  registerReconcile(subscriptionId: string, h: ReconcileHandler): void {
    this.online.registerReconcile(subscriptionId, h);
  }

  unregisterReconcile(subscriptionId: string): void {
    this.online.unregisterReconcile(subscriptionId);
  }

  askReconcile(
    providerNodeId: string,
    q: Record<string, unknown>,
    timeoutMs: number,
  ): Promise<Record<string, unknown>> {
    return this.online.askReconcile(providerNodeId, q, timeoutMs);
  }

  async close(): Promise<void> {
    this.registry.clear();
    this.pump.kick();
    await this.link.close();
    this.spool.flush();
  }
}
