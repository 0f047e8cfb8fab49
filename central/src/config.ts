// Central's configuration: DEFAULTS < file (YAML or JSON) < environment < flags, validated once into a
// frozen object. Unknown keys are rejected and every problem is reported at once. Only this file reads
// process.env.
import { Type, type Static } from 'typebox';
import { compileLayers, ConfigError, type EnvBinding, type LayerSources } from '../../common/src/config-layers.js';
import { ALERTS_DEFAULTS, AlertsConfigSchema, alertsConfigProblems } from './config-alerts.js';

const DATE_PATTERN = '^\\d{4}-\\d{2}-\\d{2}$';

/**
 * Public holidays and make-up working days (调休) of 2025 and 2026 as the State Council's notices on holiday
 * arrangements (国务院办公厅关于部分节假日安排的通知) set them. Extend or replace them in the config file
 * each year when the next notice is published.
 */
export const CN_HOLIDAYS: readonly string[] = [
  // 2025: 元旦, 春节, 清明, 劳动节, 端午, 国庆·中秋
  '2025-01-01',
  ...dateRange('2025-01-28', '2025-02-04'),
  ...dateRange('2025-04-04', '2025-04-06'),
  ...dateRange('2025-05-01', '2025-05-05'),
  ...dateRange('2025-05-31', '2025-06-02'),
  ...dateRange('2025-10-01', '2025-10-08'),
  // 2026: 元旦, 春节, 清明, 劳动节, 端午, 中秋, 国庆
  ...dateRange('2026-01-01', '2026-01-03'),
  ...dateRange('2026-02-15', '2026-02-23'),
  ...dateRange('2026-04-04', '2026-04-06'),
  ...dateRange('2026-05-01', '2026-05-05'),
  ...dateRange('2026-06-19', '2026-06-21'),
  ...dateRange('2026-09-25', '2026-09-27'),
  ...dateRange('2026-10-01', '2026-10-07'),
];
export const CN_WORKDAYS: readonly string[] = [
  '2025-01-26',
  '2025-02-08',
  '2025-04-27',
  '2025-09-28',
  '2025-10-11',
  '2026-01-04',
  '2026-02-14',
  '2026-02-28',
  '2026-05-09',
  '2026-09-20',
  '2026-10-10',
];

/** Every date from `first` to `last` inclusive, YYYY-MM-DD. */
function dateRange(first: string, last: string): string[] {
  const out: string[] = [];
  for (let t = Date.parse(`${first}T00:00:00Z`); t <= Date.parse(`${last}T00:00:00Z`); t += 86_400_000)
    out.push(new Date(t).toISOString().slice(0, 10));
  return out;
}

const Listen = Type.Object(
  { host: Type.String({ minLength: 1 }), port: Type.Integer({ minimum: 0, maximum: 65535 }) },
  { additionalProperties: false },
);

export const CentralConfigSchema = Type.Object(
  {
    /** Directory for central.db and the generated admin token. */
    dataDir: Type.String({ minLength: 1 }),
    http: Listen,
    grpc: Listen,
    /** How long central waits for a node's next heartbeat before marking it offline. */
    heartbeatTtlMs: Type.Integer({ minimum: 100, maximum: 3_600_000 }),
    /** Long-poll hold time of PollAssignments when nothing changes (~30 s). */
    pollTimeoutMs: Type.Integer({ minimum: 50, maximum: 300_000 }),
    /** How often the liveness sweep looks for nodes past their TTL. */
    livenessCheckIntervalMs: Type.Integer({ minimum: 20, maximum: 600_000 }),
    /** Default validity of enrollment tokens. */
    enrollTokenTtlMs: Type.Integer({ minimum: 1000 }),
    /** Bearer token of the bootstrap province administrator; generated into dataDir when absent. */
    adminToken: Type.Optional(Type.String({ minLength: 16 })),
    /**
     * The data plane handed to nodes. homeCenter is the exchange center (交换中心) new nodes attach to; central
     * makes it from natsUrls at start when it does not exist yet (afterwards `xchg center update` changes it).
     */
    dataPlane: Type.Object(
      {
        natsUrls: Type.Array(Type.String({ pattern: '^(nats|tls)://' }), { minItems: 1 }),
        subjectPrefix: Type.String({ pattern: '^[A-Za-z0-9_-]+$' }),
        stream: Type.String({ pattern: '^[A-Za-z0-9_-]+$' }),
        /** A center code: lowercase letters, digits and -, starting with a letter, 2 to 32 characters. */
        homeCenter: Type.String({ pattern: '^[a-z][a-z0-9-]{1,31}$' }),
      },
      { additionalProperties: false },
    ),
    /** Exchange centers (交换中心) and links as operators register them (xchg center, xchg link). */
    centers: Type.Object(
      {
        /** How long each URL of a center or link may take to answer with its NATS INFO line when registered (2000). */
        urlCheckTimeoutMs: Type.Integer({ minimum: 50, maximum: 60_000 }),
      },
      { additionalProperties: false },
    ),
    /**
     * Probes (测试粒子), link states and routes between centers (domain/routing.ts and domain/link-state.ts
     * say how each setting is used).
     */
    routing: Type.Object(
      {
        /** Probe round interval handed to relays (RelaySpec), and the interval of route evaluation (5000). */
        probeIntervalMs: Type.Integer({ minimum: 100, maximum: 600_000 }),
        /** Sliding window over which probe windows are aggregated into a link's state (30 000). */
        windowMs: Type.Integer({ minimum: 100, maximum: 3_600_000 }),
        /** How long raw probe windows are kept (6 h); the probe sweep deletes older ones. */
        probeRetentionMs: Type.Integer({ minimum: 1_000, maximum: 31 * 24 * 3_600_000 }),
        /** How often the probe sweep runs (60 000). */
        sweepIntervalMs: Type.Integer({ minimum: 20, maximum: 3_600_000 }),
        /** p99 one-way latency above which a link is degraded, ms (250). */
        degradedLatencyP99Ms: Type.Number({ exclusiveMinimum: 0 }),
        /** Loss above which a link is degraded, 0..1 (0.05). */
        degradedLoss: Type.Number({ minimum: 0, maximum: 1 }),
        /** A link without a probe answer for this long is down, ms (15 000: three probe intervals). */
        staleAfterMs: Type.Integer({ minimum: 100, maximum: 3_600_000 }),
        /** Delay charged per expected retransmission in a link's cost, ms (1000). */
        lossPenaltyMs: Type.Number({ minimum: 0 }),
        /** Cost added to a degraded link, ms (10 000). */
        degradedPenaltyMs: Type.Number({ minimum: 0 }),
        /** Relative gain a healthy route must beat to replace the current healthy one (0.2). */
        switchMargin: Type.Number({ minimum: 0, maximum: 1 }),
        /** How long every link of a route must have been healthy before traffic moves (back) onto it, ms (60 000). */
        recoverHoldMs: Type.Integer({ minimum: 0, maximum: 86_400_000 }),
        /** How long a cheaper healthy route must stay cheaper before it replaces a healthy one, ms (30 000). */
        switchHoldMs: Type.Integer({ minimum: 0, maximum: 86_400_000 }),
        /** Routes of at most this many links are considered (4). */
        maxHops: Type.Integer({ minimum: 1, maximum: 16 }),
        /** Candidate routes kept and shown per pair of centers (3). */
        candidates: Type.Integer({ minimum: 1, maximum: 16 }),
      },
      { additionalProperties: false },
    ),
    /** Traffic history (流量历史) of node pairs: bucket length, retention, the time zone of history files. */
    traffic: Type.Object(
      {
        /** Length of a base bucket, ms, whole seconds dividing an hour; handed to agents (300 000: 5 min). */
        bucketMs: Type.Integer({ minimum: 1000, maximum: 3_600_000 }),
        /** How long base buckets are kept, ms (60 days); older ones keep only their hourly rollup. */
        baseRetentionMs: Type.Integer({ minimum: 3_600_000 }),
        /** How long hourly rows are kept, ms (3 × 365 days). */
        hourlyRetentionMs: Type.Integer({ minimum: 3_600_000 }),
        /** How often the traffic sweep deletes what is past its retention, ms (3 600 000). */
        sweepIntervalMs: Type.Integer({ minimum: 20, maximum: 86_400_000 }),
        /** IANA time zone of local timestamps in history files and of days (Asia/Shanghai). */
        timeZone: Type.String({ minLength: 1, maxLength: 64 }),
      },
      { additionalProperties: false },
    ),
    /** The brain (智能调度): clustering of pairs with static policies, the surge watch with dynamic policies. */
    brain: Type.Object(
      {
        /** How often pairs are clustered and their static policies rewritten, ms (21 600 000: 6 h). */
        clusterIntervalMs: Type.Integer({ minimum: 1000, maximum: 7 * 86_400_000 }),
        /** History a clustering looks at, days (28). */
        clusterDays: Type.Integer({ minimum: 1, maximum: 365 }),
        /** Least history a pair needs to be clustered, days (7). */
        minHistoryDays: Type.Integer({ minimum: 1, maximum: 365 }),
        /** Whether clustering writes static policies for the pairs' sync tasks (true). */
        staticPolicies: Type.Boolean(),
        /** How often the surge watch feeds closed buckets to the detectors, ms (60 000). */
        surgeIntervalMs: Type.Integer({ minimum: 20, maximum: 3_600_000 }),
        /** History a new detector is warmed on, days (42). */
        surgeLookbackDays: Type.Integer({ minimum: 1, maximum: 365 }),
        /** A bucket is fed once it ended this long ago, ms (60 000). */
        settleMs: Type.Integer({ minimum: 0, maximum: 3_600_000 }),
        /** Whether a live surge gets a dynamic policy on the pair's sync tasks (true). */
        dynamicPolicies: Type.Boolean(),
        /** A dynamic policy's validity, renewed while the surge lasts, ms (3 600 000). */
        dynamicHoldMs: Type.Integer({ minimum: 60_000, maximum: 86_400_000 }),
        /** Records per batch a dynamic policy scales from (1 000: the agent's default). */
        baseBatchRecords: Type.Integer({ minimum: 1, maximum: 100_000 }),
        /**
         * Standby agents of the provider department a surge spreads a flow over at most (2; 0: never): dynamic
         * node allocation, services/shards.ts.
         */
        spreadAgentsMax: Type.Integer({ minimum: 0, maximum: 8 }),
      },
      { additionalProperties: false },
    ),
    /** Alert rules, their evaluation and the webhook (config-alerts.ts). */
    alerts: AlertsConfigSchema,
    logLevel: Type.Enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']),
    /** Sharing governance: the answer deadline of applications and the working-day calendar it is counted in. */
    governance: Type.Object(
      {
        /** Working days a provider has to answer a conditional-sharing application (国办发〔2017〕39号: 10). */
        approvalWorkingDays: Type.Integer({ minimum: 1, maximum: 365 }),
        /** Public holidays (YYYY-MM-DD) that are not working days; replaces the built-in list when set. */
        holidays: Type.Array(Type.String({ pattern: DATE_PATTERN })),
        /** Weekend days that are working days (调休 make-up days), YYYY-MM-DD; replaces the built-in list when set. */
        workdays: Type.Array(Type.String({ pattern: DATE_PATTERN })),
        /** Offset of the calendar's local time from UTC in minutes (China Standard Time: 480). */
        utcOffsetMinutes: Type.Integer({ minimum: -720, maximum: 840 }),
        /** Days an agreement is valid when the approver gives no end (default 365). */
        agreementValidityDays: Type.Integer({ minimum: 1, maximum: 3650 }),
        /** How often overdue applications are alarmed and expired agreements stopped. */
        sweepIntervalMs: Type.Integer({ minimum: 20, maximum: 3_600_000 }),
      },
      { additionalProperties: false },
    ),
    /** Reconciliation (对账) of subscriptions on a schedule. */
    reconcile: Type.Object(
      {
        /** Default interval between verifications of a subscription (a subscription may set its own); 0: only on demand. */
        verifyIntervalMs: Type.Integer({ minimum: 0, maximum: 366 * 24 * 3_600_000 }),
        /** How often central looks for subscriptions due for verification. */
        sweepIntervalMs: Type.Integer({ minimum: 20, maximum: 3_600_000 }),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
export type CentralConfig = Readonly<Static<typeof CentralConfigSchema>>;

export const DEFAULTS: Static<typeof CentralConfigSchema> = {
  dataDir: '/var/lib/xchg-central',
  http: { host: '0.0.0.0', port: 8080 },
  grpc: { host: '0.0.0.0', port: 7443 },
  heartbeatTtlMs: 15_000,
  pollTimeoutMs: 30_000,
  livenessCheckIntervalMs: 1_000,
  enrollTokenTtlMs: 7 * 24 * 3600_000,
  dataPlane: {
    natsUrls: ['nats://127.0.0.1:4222'],
    subjectPrefix: 'xchg',
    stream: 'XCHG_DATA',
    homeCenter: 'province',
  },
  centers: { urlCheckTimeoutMs: 2_000 },
  routing: {
    probeIntervalMs: 5_000,
    windowMs: 30_000,
    probeRetentionMs: 6 * 3_600_000,
    sweepIntervalMs: 60_000,
    degradedLatencyP99Ms: 250,
    degradedLoss: 0.05,
    staleAfterMs: 15_000,
    lossPenaltyMs: 1_000,
    degradedPenaltyMs: 10_000,
    switchMargin: 0.2,
    recoverHoldMs: 60_000,
    switchHoldMs: 30_000,
    maxHops: 4,
    candidates: 3,
  },
  traffic: {
    bucketMs: 300_000,
    baseRetentionMs: 60 * 86_400_000,
    hourlyRetentionMs: 3 * 365 * 86_400_000,
    sweepIntervalMs: 3_600_000,
    timeZone: 'Asia/Shanghai',
  },
  brain: {
    clusterIntervalMs: 21_600_000,
    clusterDays: 28,
    minHistoryDays: 7,
    staticPolicies: true,
    surgeIntervalMs: 60_000,
    surgeLookbackDays: 42,
    settleMs: 60_000,
    dynamicPolicies: true,
    dynamicHoldMs: 3_600_000,
    baseBatchRecords: 1000,
    spreadAgentsMax: 2,
  },
  alerts: ALERTS_DEFAULTS,
  logLevel: 'info',
  governance: {
    approvalWorkingDays: 10,
    holidays: [...CN_HOLIDAYS],
    workdays: [...CN_WORKDAYS],
    utcOffsetMinutes: 480,
    agreementValidityDays: 365,
    sweepIntervalMs: 60_000,
  },
  reconcile: { verifyIntervalMs: 24 * 3_600_000, sweepIntervalMs: 60_000 },
};

/** Environment variables and the config path each one sets. */
const ENV: readonly EnvBinding[] = [
  { env: 'XCHG_CENTRAL_DATA_DIR', path: 'dataDir', kind: 'string' },
  { env: 'XCHG_CENTRAL_HTTP_HOST', path: 'http.host', kind: 'string' },
  { env: 'XCHG_CENTRAL_HTTP_PORT', path: 'http.port', kind: 'int' },
  { env: 'XCHG_CENTRAL_GRPC_HOST', path: 'grpc.host', kind: 'string' },
  { env: 'XCHG_CENTRAL_GRPC_PORT', path: 'grpc.port', kind: 'int' },
  { env: 'XCHG_CENTRAL_HEARTBEAT_TTL_MS', path: 'heartbeatTtlMs', kind: 'int' },
  { env: 'XCHG_CENTRAL_POLL_TIMEOUT_MS', path: 'pollTimeoutMs', kind: 'int' },
  { env: 'XCHG_CENTRAL_LIVENESS_CHECK_INTERVAL_MS', path: 'livenessCheckIntervalMs', kind: 'int' },
  { env: 'XCHG_CENTRAL_NATS_URLS', path: 'dataPlane.natsUrls', kind: 'list' },
  { env: 'XCHG_CENTRAL_URL_CHECK_TIMEOUT_MS', path: 'centers.urlCheckTimeoutMs', kind: 'int' },
  { env: 'XCHG_CENTRAL_PROBE_INTERVAL_MS', path: 'routing.probeIntervalMs', kind: 'int' },
  { env: 'XCHG_CENTRAL_PROBE_WINDOW_MS', path: 'routing.windowMs', kind: 'int' },
  { env: 'XCHG_CENTRAL_STALE_AFTER_MS', path: 'routing.staleAfterMs', kind: 'int' },
  { env: 'XCHG_CENTRAL_RECOVER_HOLD_MS', path: 'routing.recoverHoldMs', kind: 'int' },
  { env: 'XCHG_CENTRAL_SWITCH_HOLD_MS', path: 'routing.switchHoldMs', kind: 'int' },
  { env: 'XCHG_CENTRAL_TRAFFIC_BUCKET_MS', path: 'traffic.bucketMs', kind: 'int' },
  { env: 'XCHG_CENTRAL_TRAFFIC_TIME_ZONE', path: 'traffic.timeZone', kind: 'string' },
  { env: 'XCHG_ADMIN_TOKEN', path: 'adminToken', kind: 'string' },
  { env: 'XCHG_CENTRAL_ALERT_WEBHOOK_URLS', path: 'alerts.webhook.urls', kind: 'list' },
  { env: 'XCHG_CENTRAL_ALERT_WEBHOOK_SECRET', path: 'alerts.webhook.secret', kind: 'string' },
  { env: 'XCHG_LOG_LEVEL', path: 'logLevel', kind: 'string' },
  { env: 'XCHG_CENTRAL_APPROVAL_WORKING_DAYS', path: 'governance.approvalWorkingDays', kind: 'int' },
  { env: 'XCHG_CENTRAL_HOLIDAYS', path: 'governance.holidays', kind: 'list' },
  { env: 'XCHG_CENTRAL_WORKDAYS', path: 'governance.workdays', kind: 'list' },
  { env: 'XCHG_CENTRAL_GOVERNANCE_SWEEP_INTERVAL_MS', path: 'governance.sweepIntervalMs', kind: 'int' },
  { env: 'XCHG_CENTRAL_VERIFY_INTERVAL_MS', path: 'reconcile.verifyIntervalMs', kind: 'int' },
  { env: 'XCHG_CENTRAL_VERIFY_SWEEP_INTERVAL_MS', path: 'reconcile.sweepIntervalMs', kind: 'int' },
];

export { ConfigError };

/** The config file: the --config flag, else XCHG_CENTRAL_CONFIG, else none. */
export function configFile(flag: string | undefined): string | undefined {
  return flag ?? process.env['XCHG_CENTRAL_CONFIG'];
}

export function compileConfig(sources: LayerSources = {}): CentralConfig {
  const config = compileLayers(CentralConfigSchema, DEFAULTS, ENV, sources);
  const problems: string[] = [];
  const { bucketMs, timeZone } = config.traffic;
  if (3_600_000 % bucketMs !== 0 || bucketMs % 1000 !== 0)
    problems.push(`traffic.bucketMs: ${bucketMs} must be whole seconds that divide an hour (e.g. 60000, 300000)`);
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
  } catch {
    problems.push(
      `traffic.timeZone: unknown time zone ${JSON.stringify(timeZone)} (an IANA name such as Asia/Shanghai)`,
    );
  }
  problems.push(...alertsConfigProblems(config.alerts));
  if (problems.length) throw new ConfigError(problems);
  return config;
}
