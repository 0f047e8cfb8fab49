// NATS JetStream transport of one agent: the connection, the data stream, per-node durable pull
// consumers, publishes with a message id, and core request/reply. Reconnects forever; a broker that
// comes back empty (its store lost) gets the stream and consumers recreated by the next ensure.
//
// Subjects (prefix from enrollment, e.g. "xchg"):
//   <p>.n.<node>.d.<task>   data batches addressed to <node> (stream, work-queue retention)
//   <p>.n.<node>.r          receipts addressed to <node> (stream)
//   <p>.ctl.<node>          stream-progress questions to <node> (core request/reply)
//   <p>.q.<node>            online queries (联机查询) to <node> (core request/reply)
import { connect } from '@nats-io/transport-node';
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, RetentionPolicy, StorageType, type JetStreamClient, type JetStreamManager, type JsMsg, type PubAck } from '@nats-io/jetstream';
import { nanos, type NatsConnection, type Msg, type Subscription } from '@nats-io/nats-core';
import type { Logger } from 'pino';
import { sleep } from '../backoff.js';

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
}

export class Subjects {
  constructor(readonly prefix: string) {}
  data(dest: string, taskId: string): string {
    return `${this.prefix}.n.${dest}.d.${taskId}`;
  }
  dataFilter(node: string): string {
    return `${this.prefix}.n.${node}.d.>`;
  }
  receipts(node: string): string {
    return `${this.prefix}.n.${node}.r`;
  }
  ctl(node: string): string {
    return `${this.prefix}.ctl.${node}`;
  }
  query(node: string): string {
    return `${this.prefix}.q.${node}`;
  }
  streamSubjects(): string[] {
    return [`${this.prefix}.n.>`];
  }
}

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

  private async checkStream(): Promise<void> {
    const jsm = await this.manager();
    try {
      await jsm.streams.info(this.opts.stream);
    } catch {
      try {
        await jsm.streams.add({
          name: this.opts.stream,
          subjects: this.subjects.streamSubjects(),
          retention: RetentionPolicy.Workqueue,
          storage: StorageType.File,
          duplicate_window: nanos(120_000),
          max_msg_size: -1,
        });
        this.log.info({ stream: this.opts.stream }, 'data stream created');
      } catch (err) {
        // Another agent created it first: fine if it now exists.
        await jsm.streams.info(this.opts.stream).catch(() => {
          throw err;
        });
      }
    }
    this.streamReady = true;
  }

  /** Creates the durable pull consumer if missing. */
  async ensureConsumer(durable: string, filter: string, ackWaitMs: number): Promise<void> {
    if (this.consumersReady.has(durable)) return;
    await this.ensureStream();
    const jsm = await this.manager();
    try {
      await jsm.consumers.info(this.opts.stream, durable);
    } catch {
      await jsm.consumers.add(this.opts.stream, {
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

  /** Publishes to the stream with a message id (broker-side dedup within its window). Calls are sent in call order. */
  async publish(subject: string, data: Uint8Array, msgId: string): Promise<PubAck> {
    if (!this.streamReady) await this.ensureStream();
    try {
      return await this.js.publish(subject, data, { msgID: msgId });
    } catch (err) {
      this.streamReady = false; // re-check on the next publish: the broker may have lost the stream
      throw err;
    }
  }

  /**
   * Pulls messages of a durable consumer and hands them to `handle` one at a time, in order, until
   * the signal aborts. Survives broker restarts and a broker that lost its store.
   */
  async consume(durable: string, filter: string, handle: (m: JsMsg) => Promise<void>, signal: AbortSignal, opts: { batch?: number; ackWaitMs?: number } = {}): Promise<void> {
    let failures = 0;
    while (!signal.aborted) {
      try {
        await this.ensureConsumer(durable, filter, opts.ackWaitMs ?? 30_000);
        const consumer = await this.js.consumers.get(this.opts.stream, durable);
        while (!signal.aborted) {
          // A long-lived pull with slow heartbeats: a loaded machine (an fsync stalling the event loop for
          // a second) must not abort a fetch whose messages would then wait out the ack wait.
          const iter = await consumer.fetch({ max_messages: opts.batch ?? 64, expires: 30_000, idle_heartbeat: 10_000 });
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
        if (failures === 1 || failures % 20 === 0) this.log.warn({ durable, err: (err as Error).message }, 'consumer interrupted; retrying');
        await sleep(Math.min(2_000, 100 * failures), signal);
      }
    }
  }

  subscribe(subject: string, handler: (m: Msg) => void | Promise<void>): Subscription {
    return this.nc.subscribe(subject, {
      queue: subject,
      callback: (err, m) => {
        if (err) return this.log.warn({ subject, err: err.message }, 'subscription error');
        Promise.resolve(handler(m)).catch((e: unknown) => this.log.warn({ subject, err: (e as Error).message }, 'request handler failed'));
      },
    });
  }

  request(subject: string, data: Uint8Array, timeoutMs: number): Promise<Msg> {
    return this.nc.request(subject, data, { timeout: timeoutMs });
  }

  async close(): Promise<void> {
    if (this.nc.isClosed()) return;
    await this.nc.drain().catch(() => this.nc.close());
  }
}
