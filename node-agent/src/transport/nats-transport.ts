// NATS JetStream transport of one agent: the connection, the data streams, per-node durable pull
// consumers, publishes with a message id, and core request/reply. Reconnects forever; a broker that
// comes back empty (its store lost) gets the streams and consumers recreated by the next ensure.
//
// Subjects: subjects.ts; publish() and request() address by the agent's RouteTable (routing.ts). Streams
// at every exchange center (each center is its own nats-server and JetStream; the same layout everywhere,
// created by whichever agent or relay connects first):
//   <S>             data batches and receipts (file storage, work queue)
//   <S>_FILES       file chunks (memory, work queue, byte limit; below)
//   <S>_TRANSIT     units crossing centers, read by the center's relay (file storage, limits retention:
//                   kept TRANSIT_MAX_AGE_MS after arrival, so a relay or link down that long loses nothing;
//                   never work queue, so the stream can be sourced or inspected; relay/relay.ts)
//   <S>_QUARANTINE  units a relay could not route (file storage, kept until an operator removes them)
//
// File chunks have their own stream in memory: the source file is their spool (the provider re-sends
// from the consumer's committed point whatever the broker loses), the provider keeps at most a small
// window of them in flight, and writing gigabytes of transient chunks to the exchange center's disk
// only to delete them a moment later would cost its disk what every department shares. The stream's
// byte limit refuses new chunks when full (discard new): the provider backs off and retries.
import { connect } from '@nats-io/transport-node';
import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  type PubAck,
} from '@nats-io/jetstream';
import {
  headers as natsHeaders,
  nanos,
  type NatsConnection,
  type Msg,
  type MsgHdrs,
  type Subscription,
} from '@nats-io/nats-core';
import type { Logger } from 'pino';
import { sleep } from '../backoff.js';
import { presizeLargeMessages } from './nats-presize.js';
import { writeLargePiecesDirectly } from './nats-zero-copy.js';
import type { RouteTable } from './routing.js';
import { Subjects } from './subjects.js';

export { Subjects } from './subjects.js';

export interface NatsTransportOptions {
  servers: string[];
  prefix: string;
  stream: string;
  nodeId: string;
  logger: Logger;
  user?: string | undefined;
  pass?: string | undefined;
  /** JetStream publish ack timeout. */
  publishTimeoutMs?: number;
  /**
   * The agent's route table: publish() and request() address units and requests for nodes at other
   * centers by it (routing.ts). Unset (relays, tools): every subject is used as given.
   */
  routes?: RouteTable;
}

/**
 * Bytes of file chunks the exchange center holds in memory at most (all transfers together; each holds
 * at most its window). deploy/nats-server.conf allows 1 GB of memory streams.
 */
export const FILE_STREAM_MAX_BYTES = 512 * 1024 * 1024;

/**
 * How long a unit in transit stays in a center's transit stream (ms): the longest relay or link outage
 * the centers ride out without the providers re-sending (24 h). Forwarded units stay too (limits
 * retention): the center's disk holds a day of its cross-center traffic.
 */
export const TRANSIT_MAX_AGE_MS = 24 * 3_600_000;

export class NatsTransport {
  readonly subjects: Subjects;
  private readonly log: Logger;
  private jsm: JetStreamManager | undefined;
  private streamReady = false;
  private readonly consumersReady = new Set<string>();

  private constructor(
    readonly nc: NatsConnection,
    readonly js: JetStreamClient,
    private readonly opts: NatsTransportOptions,
  ) {
    this.subjects = new Subjects(opts.prefix);
    this.log = opts.logger.child({ component: 'nats' });
    void this.watchStatus();
  }

  static async connect(opts: NatsTransportOptions): Promise<NatsTransport> {
    if (!presizeLargeMessages())
      opts.logger.warn(
        'NATS client internals changed: large messages are received without pre-sizing (slower, still correct)',
      );
    if (!writeLargePiecesDirectly())
      opts.logger.warn(
        'NATS client internals changed: large messages are copied before sending (more memory, still correct)',
      );
    const nc = await connect({
      servers: opts.servers,
      name: `xchg-agent ${opts.nodeId}`,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      reconnectJitter: 100,
      waitOnFirstConnect: true,
      noAsyncTraces: true,
      pingInterval: 10_000,
      ...(opts.user && { user: opts.user, pass: opts.pass ?? '' }),
    });
    const js = jetstream(nc, { timeout: opts.publishTimeoutMs ?? 10_000 });
    return new NatsTransport(nc, js, opts);
  }

  private async watchStatus(): Promise<void> {
    for await (const s of this.nc.status()) {
      if (s.type === 'disconnect') {
        this.log.warn({ server: (s as { server?: string }).server }, 'exchange center disconnected; spooling');
        this.streamReady = false;
        this.consumersReady.clear();
      } else if (s.type === 'reconnect') this.log.info('exchange center reconnected');
    }
  }

  private async manager(): Promise<JetStreamManager> {
    this.jsm ??= await jetstreamManager(this.nc, { timeout: 5_000 });
    return this.jsm;
  }

  private streamChecking: Promise<void> | undefined;

  /**
   * Creates the data stream if the broker does not have it (idempotent, safe to race). Concurrent
   * callers share one check and resume in call order, so publishes behind it keep their order.
   */
  ensureStream(): Promise<void> {
    if (this.streamReady) return Promise.resolve();
    this.streamChecking ??= this.checkStream().finally(() => {
      this.streamChecking = undefined;
    });
    return this.streamChecking;
  }

  /** Name of the file-chunk stream. */
  get fileStream(): string {
    return `${this.opts.stream}_FILES`;
  }

  /** Name of the stream of units in transit across centers. */
  get transitStream(): string {
    return `${this.opts.stream}_TRANSIT`;
  }

  /** Name of the stream of units a relay could not route. */
  get quarantineStream(): string {
    return `${this.opts.stream}_QUARANTINE`;
  }

  private async checkStream(): Promise<void> {
    await this.addStream(this.opts.stream, { subjects: this.subjects.streamSubjects(), storage: StorageType.File });
    await this.addStream(this.fileStream, {
      subjects: this.subjects.fileStreamSubjects(),
      storage: StorageType.Memory,
      max_bytes: FILE_STREAM_MAX_BYTES,
      discard: DiscardPolicy.New,
    });
    await this.addStream(this.transitStream, {
      subjects: this.subjects.transitStreamSubjects(),
      storage: StorageType.File,
      retention: RetentionPolicy.Limits,
      max_age: nanos(TRANSIT_MAX_AGE_MS),
    });
    await this.addStream(this.quarantineStream, {
      subjects: this.subjects.quarantineStreamSubjects(),
      storage: StorageType.File,
      retention: RetentionPolicy.Limits,
    });
    this.streamReady = true;
  }

  private async addStream(
    name: string,
    cfg: {
      subjects: string[];
      storage: StorageType;
      max_bytes?: number;
      discard?: DiscardPolicy;
      retention?: RetentionPolicy;
      max_age?: number;
    },
  ): Promise<void> {
    const jsm = await this.manager();
    try {
      await jsm.streams.info(name);
    } catch {
      try {
        await jsm.streams.add({
          name,
          retention: RetentionPolicy.Workqueue,
          duplicate_window: nanos(120_000),
          max_msg_size: -1,
          ...cfg,
        });
        this.log.info({ stream: name }, 'stream created');
      } catch (err) {
        // Another agent created it first: fine if it now exists.
        await jsm.streams.info(name).catch(() => {
          throw err;
        });
      }
    }
  }

  /** Creates the durable pull consumer if missing. */
  async ensureConsumer(stream: string, durable: string, filter: string, ackWaitMs: number): Promise<void> {
    if (this.consumersReady.has(durable)) return;
    await this.ensureStream();
    const jsm = await this.manager();
    try {
      await jsm.consumers.info(stream, durable);
    } catch {
      await jsm.consumers.add(stream, {
        durable_name: durable,
        filter_subject: filter,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        ack_wait: nanos(ackWaitMs),
        max_deliver: -1,
        max_ack_pending: 1024,
      });
      this.log.info({ durable, filter }, 'consumer created');
    }
    this.consumersReady.add(durable);
  }

  /**
   * Publishes to a stream with a message id (broker-side dedup within its window) and optional headers.
   * Calls are sent in call order. The client keeps a reference to `data` until it is written out: the
   * caller must not reuse the buffer.
   */
  async publish(subject: string, data: Uint8Array, msgId: string, hdrs?: Record<string, string>): Promise<PubAck> {
    // Routed first: a unit without a route throws here and stays in its spool (the stream is not suspected).
    const to = this.opts.routes?.address(subject) ?? { subject };
    if (!this.streamReady) await this.ensureStream();
    const h = (hdrs || to.headers) && toHeaders({ ...hdrs, ...to.headers });
    try {
      return await this.js.publish(to.subject, data, { msgID: msgId, ...(h && { headers: h }) });
    } catch (err) {
      this.streamReady = false; // re-check on the next publish: the broker may have lost the stream
      throw err;
    }
  }

  /**
   * Pulls messages of a durable consumer and hands them to `handle` one at a time, in order, until
   * the signal aborts. Survives broker restarts and a broker that lost its store.
   */
  async consume(
    durable: string,
    filter: string,
    handle: (m: JsMsg) => Promise<void>,
    signal: AbortSignal,
    opts: { batch?: number; ackWaitMs?: number; stream?: string } = {},
  ): Promise<void> {
    const stream = opts.stream ?? this.opts.stream;
    let failures = 0;
    while (!signal.aborted) {
      try {
        await this.ensureConsumer(stream, durable, filter, opts.ackWaitMs ?? 30_000);
        const consumer = await this.js.consumers.get(stream, durable);
        while (!signal.aborted) {
          // A long-lived pull with slow heartbeats: a loaded machine (an fsync stalling the event loop for
          // a second) must not abort a fetch whose messages would then wait out the ack wait.
          const iter = await consumer.fetch({
            max_messages: opts.batch ?? 64,
            expires: 30_000,
            idle_heartbeat: 10_000,
          });
          const stop = (): void => void iter.stop();
          signal.addEventListener('abort', stop, { once: true });
          try {
            for await (const m of iter) {
              await handle(m);
              failures = 0;
            }
          } finally {
            signal.removeEventListener('abort', stop);
          }
        }
      } catch (err) {
        if (signal.aborted) break;
        this.consumersReady.delete(durable);
        this.streamReady = false;
        failures++;
        if (failures === 1 || failures % 20 === 0)
          this.log.warn({ durable, err: (err as Error).message }, 'consumer interrupted; retrying');
        await sleep(Math.min(2_000, 100 * failures), signal);
      }
    }
  }

  subscribe(subject: string, handler: (m: Msg) => void | Promise<void>): Subscription {
    return this.nc.subscribe(subject, {
      queue: subject,
      callback: (err, m) => {
        if (err) return this.log.warn({ subject, err: err.message }, 'subscription error');
        Promise.resolve(handler(m)).catch((e: unknown) =>
          this.log.warn({ subject, err: (e as Error).message }, 'request handler failed'),
        );
      },
    });
  }

  /** A core request (routed through the home center's relay when the node is at another center). */
  request(subject: string, data: Uint8Array, timeoutMs: number, hdrs?: Record<string, string>): Promise<Msg> {
    const to = this.opts.routes?.addressRequest(subject) ?? { subject };
    const h = (hdrs || to.headers) && toHeaders({ ...hdrs, ...to.headers });
    return this.nc.request(to.subject, data, { timeout: timeoutMs, ...(h && { headers: h }) });
  }

  /** Messages of a durable consumer not yet delivered plus those delivered and not acked (its backlog). */
  async consumerBacklog(stream: string, durable: string): Promise<number> {
    const info = await (await this.manager()).consumers.info(stream, durable);
    return info.num_pending + info.num_ack_pending;
  }

  async close(): Promise<void> {
    if (this.nc.isClosed()) return;
    await this.nc.drain().catch(() => this.nc.close());
  }
}

function toHeaders(hdrs: Record<string, string>): MsgHdrs {
  const h = natsHeaders();
  for (const [k, v] of Object.entries(hdrs)) h.set(k, v);
  return h;
}
