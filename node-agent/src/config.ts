// The agent's configuration: DEFAULTS < file (YAML or JSON) < environment < flags, validated once into a
// frozen object; unknown keys are rejected and every problem is listed at once. Only this file reads
// process.env. Credentials of department databases live here, on the agent, never in central.
import { readFileSync } from 'node:fs';
import { Type, type Static } from 'typebox';
import { compileLayers, ConfigError, type EnvBinding, type LayerSources } from '../../common/src/config-layers.js';
import { bindingProblems, type BindingConfig, type BindingRole } from './connectors/index.js';

const Name = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.-]+$' });

/**
 * A named source or sink of department data: `type` and that connector type's settings. Checked against
 * the type's schema (connectors/registry.ts) by compileConfig, every binding, all problems at once.
 */
const Binding = Type.Unsafe<BindingConfig>(Type.Unknown());

/** An exchange center's code (central's: lowercase letters, digits and -). */
const CenterCode = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' });

/** A route to another exchange center: the centers in order, from this node's home center to it. */
const StaticRoute = Type.Object(
  { destinationCenter: CenterCode, hops: Type.Array(CenterCode, { minItems: 2, maxItems: 16 }) },
  { additionalProperties: false },
);

/** The relay role configured here (relay/spec.ts); center "" = off. */
const StaticRelay = Type.Object(
  {
    /** This node's home center ("" : no relay here). */
    center: Type.Union([Type.Literal(''), CenterCode]),
    /** Neighbour centers and the NATS URLs this relay dials to reach each. */
    neighbors: Type.Array(
      Type.Object(
        {
          center: CenterCode,
          natsUrls: Type.Array(Type.String({ minLength: 1 }), { minItems: 1, maxItems: 16 }),
          linkId: Type.Optional(Type.String()),
          capacityBps: Type.Optional(Type.Integer({ minimum: 0 })),
        },
        { additionalProperties: false },
      ),
      { maxItems: 64 },
    ),
    /** Probe round interval, ms (0: no probes). */
    probeIntervalMs: Type.Integer({ minimum: 0, maximum: 3_600_000 }),
  },
  { additionalProperties: false },
);

export const AgentConfigSchema = Type.Object(
  {
    /** Holds identity.json and spool.db. */
    dataDir: Type.String({ minLength: 1 }),
    central: Type.Object(
      {
        /** host:port of central's gRPC AgentService. */
        address: Type.String({ minLength: 3, pattern: '^[^\\s:/]+:\\d{1,5}$' }),
        /** One-time enrollment token; needed only until the node is enrolled. */
        enrollToken: Type.Optional(Type.String({ minLength: 8 })),
        /** File holding the enrollment token (kept out of the config file). */
        enrollTokenFile: Type.Optional(Type.String({ minLength: 1 })),
      },
      { additionalProperties: false },
    ),
    labels: Type.Record(Type.String(), Type.String()),
    /** Heartbeat period; 0 means a third of the TTL central asks for. */
    heartbeatIntervalMs: Type.Integer({ minimum: 0, maximum: 600_000 }),
    /** Client deadline of one PollAssignments call (must exceed central's poll timeout). */
    pollDeadlineMs: Type.Integer({ minimum: 100, maximum: 600_000 }),
    /** How often the agent records a metrics report into its outbox. */
    reportIntervalMs: Type.Integer({ minimum: 50, maximum: 3_600_000 }),
    /** Most reports sent in one Report call. */
    reportBatchSize: Type.Integer({ minimum: 1, maximum: 1000 }),
    /**
     * Largest Report call sent to central, in bytes (central's gRPC max receive size: 4 MiB). The lower of
     * this and the limit central announces in its poll replies is used; larger sets of reports go in
     * several calls and a single larger report is trimmed.
     */
    reportMaxMessageBytes: Type.Integer({ minimum: 64 * 1024, maximum: 256 * 1024 * 1024 }),
    /**
     * Largest quarantined record (its values as JSON, bytes) carried in a report to central; past it the
     * longest values are clipped with a marker naming what was cut (the spool keeps the whole record).
     */
    reportMaxRecordBytes: Type.Integer({ minimum: 1024, maximum: 16 * 1024 * 1024 }),
    backoff: Type.Object(
      {
        initialMs: Type.Integer({ minimum: 1 }),
        factor: Type.Number({ minimum: 1, maximum: 10 }),
        maxMs: Type.Integer({ minimum: 1 }),
        jitter: Type.Number({ minimum: 0, maximum: 1 }),
      },
      { additionalProperties: false },
    ),
    /** After SIGTERM: how long running work may take to finish and the outbox to flush. */
    shutdownGraceMs: Type.Integer({ minimum: 0, maximum: 600_000 }),
    spool: Type.Object(
      {
        /** Reports kept at most while central is unreachable; then the oldest metrics samples are thinned. */
        maxReports: Type.Integer({ minimum: 100 }),
        /** SQLite synchronous level of the spool: FULL survives power loss; NORMAL survives process crashes. */
        synchronous: Type.Enum(['FULL', 'NORMAL']),
      },
      { additionalProperties: false },
    ),
    /** Data plane (数据传输): batching, publishing, end-to-end acknowledgement and spool quotas. */
    dataPlane: Type.Object(
      {
        /** Rows read per step (a batch holds at most this many records). */
        batchRecords: Type.Integer({ minimum: 1, maximum: 100_000 }),
        /** Largest encoded batch; kept below the broker's max_payload. */
        maxBatchBytes: Type.Integer({ minimum: 4096, maximum: 64 * 1024 * 1024 }),
        /** Size of a file chunk; kept 16 KiB below the broker's max_payload (1 MiB by default). */
        fileChunkBytes: Type.Integer({ minimum: 4096, maximum: 64 * 1024 * 1024 }),
        /** File bytes sent ahead of the consumer's committed point (what the exchange center holds per transfer). */
        fileWindowBytes: Type.Integer({ minimum: 8192, maximum: 1024 * 1024 * 1024 }),
        /** How often an incremental source is read again once it has nothing new. */
        pollIntervalMs: Type.Integer({ minimum: 10, maximum: 3_600_000 }),
        /** Async JetStream publishes in flight. */
        publishWindow: Type.Integer({ minimum: 1, maximum: 4096 }),
        /** Bytes of publishes in flight (the agent holds each until JetStream acks it; bounds its memory). */
        publishWindowBytes: Type.Integer({ minimum: 64 * 1024, maximum: 1024 * 1024 * 1024 }),
        /** A published batch without a receipt for this long makes the provider ask the consumer. */
        receiptTimeoutMs: Type.Integer({ minimum: 100, maximum: 3_600_000 }),
        /** Batches re-sent at most per stall. */
        resendWindow: Type.Integer({ minimum: 1, maximum: 100_000 }),
        /** JetStream ack wait of the data consumer. */
        ackWaitMs: Type.Integer({ minimum: 1000, maximum: 3_600_000 }),
        /**
         * How long a batch from a node outside its flow (neither the provider nor a node holding a shard of
         * it) is redelivered before it is dropped: the assignment naming a new shard holder can arrive after
         * its first batches. A legitimate sender keeps its batches until receipted and re-sends them.
         */
        foreignBatchGraceMs: Type.Integer({ minimum: 1000, maximum: 86_400_000 }),
        /** Spool quota: batches waiting for receipts; reading pauses (never drops) when it is reached. */
        outboxMaxBatches: Type.Integer({ minimum: 1 }),
        /** Spool quota in bytes. */
        outboxMaxBytes: Type.Integer({ minimum: 1024 }),
        /** How often each task reports its run counters to central. */
        runReportIntervalMs: Type.Integer({ minimum: 50, maximum: 3_600_000 }),
        /** How far a cursor date-time may lie ahead of this machine's clock before its row is held (and reported). */
        cursorSkewMs: Type.Integer({ minimum: 0, maximum: 31 * 24 * 3_600_000 }),
      },
      { additionalProperties: false },
    ),
    /** Local online-query endpoint for department systems, "host:port" ("" = off). */
    queryListen: Type.String({ pattern: '^$|^[^\\s]+:\\d{1,5}$' }),
    /** Prometheus metrics (metrics-api.ts). */
    metrics: Type.Object(
      {
        /** Where GET /metrics listens, "host:port" ("" = off; e.g. "127.0.0.1:9464"). */
        listen: Type.String({ pattern: '^$|^[^\\s]+:\\d{1,5}$' }),
      },
      { additionalProperties: false },
    ),
    /**
     * Routes to other exchange centers (交换中心) for units to nodes homed there, until central sends its
     * own (a RouteSpec from central replaces the route to its destination). Default: none.
     */
    routes: Type.Array(StaticRoute, { maxItems: 256 }),
    /** The relay (中继) role at this node's center, when central does not assign it (its RelaySpec replaces this). */
    relay: StaticRelay,
    sources: Type.Record(Name, Binding),
    sinks: Type.Record(Name, Binding),
    logLevel: Type.Enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']),
  },
  { additionalProperties: false },
);
export type AgentConfig = Readonly<Static<typeof AgentConfigSchema>>;

export const DEFAULTS: Static<typeof AgentConfigSchema> = {
  dataDir: '/var/lib/xchg-agent',
  central: { address: '127.0.0.1:7443' },
  labels: {},
  heartbeatIntervalMs: 0,
  pollDeadlineMs: 45_000,
  reportIntervalMs: 10_000,
  reportBatchSize: 200,
  reportMaxMessageBytes: 4 * 1024 * 1024,
  reportMaxRecordBytes: 64 * 1024,
  backoff: { initialMs: 1_000, factor: 1.6, maxMs: 120_000, jitter: 0.2 },
  shutdownGraceMs: 10_000,
  spool: { maxReports: 100_000, synchronous: 'FULL' },
  dataPlane: {
    batchRecords: 1000,
    maxBatchBytes: 512 * 1024,
    fileChunkBytes: 1024 * 1024 - 16 * 1024,
    fileWindowBytes: 64 * 1024 * 1024,
    pollIntervalMs: 1000,
    publishWindow: 32,
    publishWindowBytes: 8 * 1024 * 1024,
    receiptTimeoutMs: 30_000,
    resendWindow: 64,
    ackWaitMs: 30_000,
    foreignBatchGraceMs: 300_000,
    outboxMaxBatches: 20_000,
    outboxMaxBytes: 2 * 1024 ** 3,
    runReportIntervalMs: 10_000,
    cursorSkewMs: 5 * 60_000,
  },
  queryListen: '',
  metrics: { listen: '' },
  routes: [],
  relay: { center: '', neighbors: [], probeIntervalMs: 0 },
  sources: {},
  sinks: {},
  logLevel: 'info',
};

const ENV: readonly EnvBinding[] = [
  { env: 'XCHG_AGENT_DATA_DIR', path: 'dataDir', kind: 'string' },
  { env: 'XCHG_AGENT_CENTRAL', path: 'central.address', kind: 'string' },
  { env: 'XCHG_AGENT_ENROLL_TOKEN', path: 'central.enrollToken', kind: 'string' },
  { env: 'XCHG_AGENT_ENROLL_TOKEN_FILE', path: 'central.enrollTokenFile', kind: 'string' },
  { env: 'XCHG_AGENT_HEARTBEAT_INTERVAL_MS', path: 'heartbeatIntervalMs', kind: 'int' },
  { env: 'XCHG_AGENT_POLL_DEADLINE_MS', path: 'pollDeadlineMs', kind: 'int' },
  { env: 'XCHG_AGENT_REPORT_INTERVAL_MS', path: 'reportIntervalMs', kind: 'int' },
  { env: 'XCHG_AGENT_SHUTDOWN_GRACE_MS', path: 'shutdownGraceMs', kind: 'int' },
  { env: 'XCHG_AGENT_METRICS_LISTEN', path: 'metrics.listen', kind: 'string' },
  { env: 'XCHG_LOG_LEVEL', path: 'logLevel', kind: 'string' },
];

export { ConfigError };

/**
 * The agent's configuration from its layers, frozen. Throws ConfigError listing every problem: the
 * schema's, and each source and sink binding checked against its connector type's settings.
 */
export function compileConfig(sources: LayerSources = {}): AgentConfig {
  let checked = false;
  try {
    return compileLayers(AgentConfigSchema, DEFAULTS, ENV, sources, (c) => {
      checked = true;
      const enroll =
        c.central.enrollToken && c.central.enrollTokenFile
          ? ['central: set enrollToken or enrollTokenFile, not both']
          : [];
      return [...enroll, ...allBindingProblems(c)];
    });
  } catch (err) {
    if (!(err instanceof ConfigError) || checked) throw err;
    // Problems elsewhere stop compileLayers before its own checks: the bindings are checked here too, on
    // the merged layers, so that every problem is listed at once.
    const bindings = allBindingProblems(mergedLayers(sources));
    throw bindings.length
      ? new ConfigError([...err.problems, ...bindings.filter((p) => !err.problems.includes(p))])
      : err;
  }
}

/** The layers merged without validation (undefined when a file or variable cannot be read at all). */
function mergedLayers(sources: LayerSources): unknown {
  let merged: unknown;
  try {
    compileLayers(Type.Unknown(), DEFAULTS, ENV, sources, (m) => ((merged = m), []));
  } catch {
    /* its problems are already reported */
  }
  return merged;
}

/** Problems of every source and sink binding, each named "sources.<name>.<setting>: …". */
function allBindingProblems(config: unknown): string[] {
  const out: string[] = [];
  const c = config as { sources?: unknown; sinks?: unknown } | undefined;
  for (const [role, group] of [
    ['source', c?.sources],
    ['sink', c?.sinks],
  ] as [BindingRole, unknown][]) {
    if (group === null || typeof group !== 'object' || Array.isArray(group)) continue;
    for (const [name, binding] of Object.entries(group))
      out.push(...bindingProblems(role, `${role}s.${name}`, binding));
  }
  return out;
}

/** The enrollment token from the config or its file, if any. */
export function enrollTokenOf(config: AgentConfig): string | undefined {
  if (config.central.enrollToken) return config.central.enrollToken;
  if (config.central.enrollTokenFile) return readFileSync(config.central.enrollTokenFile, 'utf8').trim();
  return undefined;
}
