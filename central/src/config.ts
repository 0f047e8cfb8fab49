// Central's configuration: DEFAULTS < file (YAML or JSON) < environment < flags, validated once into a
// frozen object. Unknown keys are rejected and every problem is reported at once. Only this file reads
// process.env.
import { Type, type Static } from 'typebox';
import { compileLayers, ConfigError, type EnvBinding, type LayerSources } from '../../common/src/config-layers.js';

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
    /** Handed to nodes at enrollment: where their exchange center is. */
    dataPlane: Type.Object(
      {
        natsUrls: Type.Array(Type.String({ pattern: '^(nats|tls)://' }), { minItems: 1 }),
        subjectPrefix: Type.String({ pattern: '^[A-Za-z0-9_-]+$' }),
        stream: Type.String({ pattern: '^[A-Za-z0-9_-]+$' }),
        homeCenter: Type.String({ minLength: 1 }),
      },
      { additionalProperties: false },
    ),
    logLevel: Type.Enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']),
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
  dataPlane: { natsUrls: ['nats://127.0.0.1:4222'], subjectPrefix: 'xchg', stream: 'XCHG_DATA', homeCenter: 'province' },
  logLevel: 'info',
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
  { env: 'XCHG_ADMIN_TOKEN', path: 'adminToken', kind: 'string' },
  { env: 'XCHG_LOG_LEVEL', path: 'logLevel', kind: 'string' },
];

export { ConfigError };

export function compileConfig(sources: LayerSources = {}): CentralConfig {
  return compileLayers(CentralConfigSchema, DEFAULTS, ENV, sources);
}
