// NATS JetStream transport of one agent: the connection, the data streams, per-node durable pull
// consumers, publishes with a message id, and core request/reply. Reconnects forever; a broker that
// comes back empty (its store lost) gets the streams and consumers recreated by the next ensure.
//
// Subjects (prefix from enrollment, e.g. "xchg"):
//   <p>.n.<node>.d.<task>   data batches addressed to <node> (stream <S>, file storage, work queue)
//   <p>.n.<node>.r          receipts addressed to <node> (stream <S>)
//   <p>.f.<node>.<task>     file chunks addressed to <node> (stream <S>_FILES, memory, work queue)
//   <p>.ctl.<node>          stream-progress questions to <node> (core request/reply)
//   <p>.q.<node>            online queries (联机查询) to <node> (core request/reply)
//   <p>.rc.<node>           reconciliation (对账) questions to <node> (core request/reply)
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
import { headers as natsHeaders, nanos, type NatsConnection, type Msg, type Subscription } from '@nats-io/nats-core';
import type { Logger } from 'pino';
import { sleep } from '../backoff.js';
import { presizeLargeMessages } from './nats-presize.js';

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
  reconcile(node: string): string {
    return `${this.prefix}.rc.${node}`;
  }
  streamSubjects(): string[] {
    return [`${this.prefix}.n.>`];
  }
  files(dest: string, taskId: string): string {
    return `${this.prefix}.f.${dest}.${taskId}`;
  }
  filesFilter(node: string): string {
    return `${this.prefix}.f.${node}.>`;
  }
  fileStreamSubjects(): string[] {
    return [`${this.prefix}.f.>`];
  }
}

/**
 * Bytes of file chunks the exchange center holds in memory at most (all transfers together; each holds
 * at most its window). deploy/nats-server.conf allows 1 GB of memory streams.
 */
export const FILE_STREAM_MAX_BYTES = 512 * 1024 * 1024;

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

  private async checkStream(): Promise<void> {
    await this.addStream(this.opts.stream, { subjects: this.subjects.streamSubjects(), storage: StorageType.File });
    await this.addStream(this.fileStream, {
      subjects: this.subjects.fileStreamSubjects(),
      storage: StorageType.Memory,
      max_bytes: FILE_STREAM_MAX_BYTES,
      discard: DiscardPolicy.New,
    });
    this.streamReady = true;
  }

  private async addStream(
    name: string,
    cfg: { subjects: string[]; storage: StorageType; max_bytes?: number; discard?: DiscardPolicy },
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
    if (!this.streamReady) await this.ensureStream();
    let h: ReturnType<typeof natsHeaders> | undefined;
    if (hdrs) {
      h = natsHeaders();
      for (const [k, v] of Object.entries(hdrs)) h.set(k, v);
    }
    try {
      return await this.js.publish(subject, data, { msgID: msgId, ...(h && { headers: h }) });
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

  request(subject: string, data: Uint8Array, timeoutMs: number): Promise<Msg> {
    return this.nc.request(subject, data, { timeout: timeoutMs });
  }

  async close(): Promise<void> {
    if (this.nc.isClosed()) return;
    await this.nc.drain().catch(() => this.nc.close());
  }
}
