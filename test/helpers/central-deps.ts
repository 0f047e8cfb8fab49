// Central's real services wired as central/src/main.ts wires them (temp SQLite file, silent logger, a
// clock the test controls), for in-process tests of the services, the fastify app and the gRPC server.
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import type { GrpcDeps } from '../../central/src/grpc/server.js';
import type { HttpDeps } from '../../central/src/http/app.js';
import type { LivenessTransition } from '../../central/src/domain/liveness.js';
import type { CentralMetrics } from '../../central/src/metrics.js';
import { DEFAULTS } from '../../central/src/config.js';
import type { WorkingCalendar, CalendarSpec } from '../../central/src/domain/calendar.js';
import type { AlertService } from '../../central/src/services/alerts.js';
import type { AssignmentService } from '../../central/src/services/assignments.js';
import type { AuditTrail } from '../../central/src/services/audit.js';
import type { CatalogService } from '../../central/src/services/catalog.js';
import type { CenterService } from '../../central/src/services/centers.js';
import type { LinkService } from '../../central/src/services/links.js';
import type { ProbeService } from '../../central/src/services/probes.js';
import type { RelayService } from '../../central/src/services/relays.js';
import type { RoutingService, RoutingSettings } from '../../central/src/services/routing.js';
import type { EvaluationService } from '../../central/src/services/evaluation.js';
import type { NodeService } from '../../central/src/services/nodes.js';
import type { ObjectionService } from '../../central/src/services/objections.js';
import type { RegistryService } from '../../central/src/services/registry.js';
import type { ReportService } from '../../central/src/services/reports.js';
import type { SharingService } from '../../central/src/services/sharing.js';
import type { UserService } from '../../central/src/services/users.js';
import type { TrafficOptions, TrafficService } from '../../central/src/services/traffic.js';
import type { ClusterService } from '../../central/src/services/brain-clusters.js';
import type { SurgeService } from '../../central/src/services/brain-surges.js';
import type { BrainViews } from '../../central/src/services/brain-views.js';
import type { PolicyService } from '../../central/src/services/policies.js';
import { createServices } from '../../central/src/services/index.js';
import { Store, type NodeRecord } from '../../central/src/store/index.js';
import { afterAll, afterEach } from 'vitest';
import { XchgError } from '../../central/src/errors.js';
import { removeTmpDirs, tmpDir } from './tmp.js';

/** A clock the test moves by hand; starts at a fixed instant so times in assertions are predictable. */
export class ManualClock {
  constructor(public nowMs = 1_700_000_000_000) {}
  readonly now = (): number => this.nowMs;
  advance(ms: number): number {
    this.nowMs += ms;
    return this.nowMs;
  }
}

export interface CentralDepsOptions {
  /** Default 15 000 ms. */
  heartbeatTtlMs?: number;
  /** Default 7 days. */
  enrollTokenTtlMs?: number;
  /** Default 30 000 ms (gRPC long-poll hold time). */
  pollTimeoutMs?: number;
  /** Default a ManualClock; pass `Date.now` for wall-clock tests. */
  clock?: () => number;
  adminToken?: string;
  /** Working days to answer an application (default 10). */
  approvalWorkingDays?: number;
  /** Working-day calendar (default central's: the built-in holidays, UTC+8). */
  calendar?: Partial<CalendarSpec>;
  /** Default agreement validity in days (default 365). */
  agreementValidityDays?: number;
  /** How long a center URL may take to answer its NATS INFO line, ms (default central's, 2000). */
  urlCheckTimeoutMs?: number;
  /** Probes and routing (default central's: ROUTING_SETTINGS_DEFAULTS). */
  routing?: RoutingSettings;
  /** Traffic history settings (default central's: TRAFFIC_DEFAULTS, 5 min buckets). */
  traffic?: TrafficOptions;
  /** The root logger the services log to (default silent). */
  logger?: Logger;
}

export interface CentralDeps {
  dir: string;
  dbFile: string;
  store: Store;
  clock: () => number;
  manual: ManualClock | undefined;
  nodes: NodeService;
  assignments: AssignmentService;
  registry: RegistryService;
  reports: ReportService;
  audit: AuditTrail;
  users: UserService;
  catalog: CatalogService;
  sharing: SharingService;
  alerts: AlertService;
  objections: ObjectionService;
  evaluation: EvaluationService;
  calendar: WorkingCalendar;
  metrics: CentralMetrics;
  centers: CenterService;
  links: LinkService;
  probes: ProbeService;
  relays: RelayService;
  routing: RoutingService;
  traffic: TrafficService;
  clusters: ClusterService;
  surges: SurgeService;
  brainViews: BrainViews;
  policies: PolicyService;
  logger: Logger;
  adminToken: string;
  /** Every liveness transition reported through onTransition, in order. */
  transitions: LivenessTransition[];
  /** Flip to false to make /readyz answer 503. */
  readyState: { ready: boolean };
  http: HttpDeps;
  grpc: GrpcDeps;
  close(): void;
}

export const TEST_ADMIN_TOKEN = 'test-admin-token-0123456789abcdef';

export function centralDeps(opts: CentralDepsOptions = {}): CentralDeps {
  const dir = tmpDir('xchg-central-unit-');
  const dbFile = join(dir, 'central.db');
  const store = Store.open(dbFile);
  const manual = opts.clock ? undefined : new ManualClock();
  const clock = opts.clock ?? manual!.now;
  const logger = opts.logger ?? pino({ level: 'silent' });
  const transitions: LivenessTransition[] = [];
  const gov = DEFAULTS.governance;
  const dataPlane = {
    natsUrls: ['nats://127.0.0.1:4222'],
    subjectPrefix: 'xchg',
    stream: 'XCHG_DATA',
    homeCenter: 'province',
  };
  const services = createServices(store, clock, {
    heartbeatTtlMs: opts.heartbeatTtlMs ?? 15_000,
    enrollTokenTtlMs: opts.enrollTokenTtlMs ?? 7 * 24 * 3600_000,
    calendar: {
      holidays: gov.holidays,
      workdays: gov.workdays,
      utcOffsetMinutes: gov.utcOffsetMinutes,
      ...opts.calendar,
    },
    approvalWorkingDays: opts.approvalWorkingDays ?? gov.approvalWorkingDays,
    agreementValidityDays: opts.agreementValidityDays ?? gov.agreementValidityDays,
    onTransition: (t) => transitions.push(t),
    dataPlane,
    urlCheckTimeoutMs: opts.urlCheckTimeoutMs ?? DEFAULTS.centers.urlCheckTimeoutMs,
    ...(opts.routing && { routing: opts.routing }),
    ...(opts.traffic && { traffic: opts.traffic }),
    logger,
  });
  services.centers.bootstrap(); // as main.ts does: the config's home center exists before any enrollment
  const adminToken = opts.adminToken ?? TEST_ADMIN_TOKEN;
  const readyState = { ready: true };
  const { nodes, assignments, reports, metrics, centers, routing, policies } = services;
  return {
    ...services,
    dir,
    dbFile,
    store,
    clock,
    manual,
    logger,
    adminToken,
    transitions,
    readyState,
    http: {
      ...services,
      logger,
      adminToken,
      version: '0.0.0-test',
      ready: () => readyState.ready,
      ping: () => store.ping(),
    },
    grpc: {
      nodes,
      assignments,
      reports,
      metrics,
      logger,
      pollTimeoutMs: opts.pollTimeoutMs ?? 30_000,
      centers,
      routing,
      policies,
      trafficBucketMs: services.traffic.opts.bucketMs,
    },
    close: () => {
      assignments.wakeAll();
      store.close();
    },
  };
}

/** Creates province 360000 and department `dept` under it (idempotent). */
export function seedDepartment(d: CentralDeps, dept = 'gat'): void {
  if (!d.store.regions.get('360000')) d.registry.createRegion({ code: '360000', name: '江西省', level: 'province' });
  if (!d.store.regions.getDepartment(dept))
    d.registry.createDepartment({ code: dept, name: dept, regionCode: '360000' });
}

/** Seeds the department, issues a token and enrolls a node with it; returns the node and its secret. */
export function enrollNode(
  d: CentralDeps,
  nodeName = 'fe-01',
  dept = 'gat',
): { node: NodeRecord; secret: string; token: string } {
  seedDepartment(d, dept);
  const { token } = d.nodes.createToken({ departmentCode: dept, nodeName });
  const { node, secret } = d.nodes.enroll({
    token,
    hostname: `${nodeName}.example`,
    agentVersion: '0.1.0',
    labels: {},
  });
  return { node, secret, token };
}

/**
 * For a test file: returns a deps() that makes central services like centralDeps() and closes every one
 * made after each test (the temp dirs go after the file).
 */
export function closingCentralDeps(): (opts?: CentralDepsOptions) => CentralDeps {
  const made: CentralDeps[] = [];
  afterEach(() => {
    for (const d of made.splice(0)) d.close();
  });
  afterAll(removeTmpDirs);
  return (opts = {}) => {
    const d = centralDeps(opts);
    made.push(d);
    return d;
  };
}

/** Runs fn and returns the XchgError it throws (fails the test when it throws anything else or nothing). */
export function xchgError(fn: () => unknown): XchgError {
  try {
    fn();
  } catch (err) {
    if (err instanceof XchgError) return err;
    throw new Error(`expected an XchgError, got ${String(err)}`);
  }
  throw new Error('expected an XchgError, nothing was thrown');
}
