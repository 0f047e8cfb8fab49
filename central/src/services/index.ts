// Wiring of central's services over one store: the single place that knows which service needs which.
// main.ts and the tests build central through it, so they cannot drift apart.
import type { Logger } from 'pino';
import type { LivenessTransition } from '../domain/liveness.js';
import { WorkingCalendar, type CalendarSpec } from '../domain/calendar.js';
import { CentralMetrics } from '../metrics.js';
import type { Store } from '../store/index.js';
import { AlertService } from './alerts.js';
import { AssignmentService } from './assignments.js';
import { AuditTrail } from './audit.js';
import { CLUSTER_DEFAULTS, ClusterService, type ClusterSettings } from './brain-clusters.js';
import { SURGE_DEFAULTS, SurgeService, type SurgeSettings } from './brain-surges.js';
import { BrainViews } from './brain-views.js';
import { DashboardService } from './dashboard.js';
import { TopologyService } from './dashboard-topology.js';
import { CatalogService } from './catalog.js';
import { CenterService, type CenterServiceOptions } from './centers.js';
import { EvaluationService } from './evaluation.js';
import { LinkService } from './links.js';
import { ProbeService } from './probes.js';
import { RelayService } from './relays.js';
import { ROUTING_SETTINGS_DEFAULTS, RoutingService, type RoutingSettings } from './routing.js';
import { NodeService } from './nodes.js';
import { ObjectionService } from './objections.js';
import { PolicyService } from './policies.js';
import { ShardService } from './shards.js';
import { TideService } from './tide.js';
import { ReconcileService } from './reconcile.js';
import { RecordAccessService } from './record-access.js';
import { RegistryService } from './registry.js';
import { ReportService } from './reports.js';
import { SharingService } from './sharing.js';
import { TRAFFIC_DEFAULTS, TrafficService, type TrafficOptions } from './traffic.js';
import { UserService } from './users.js';

export interface ServiceOptions {
  heartbeatTtlMs: number;
  enrollTokenTtlMs: number;
  calendar: CalendarSpec;
  approvalWorkingDays: number;
  agreementValidityDays: number;
  /** Central's default verification (对账) interval of a subscription; 0 or absent: only on demand. */
  verifyIntervalMs?: number;
  /** Called after each stored liveness transition (after the metric is counted). */
  onTransition?: (t: LivenessTransition) => void;
  /** The config's data plane: its homeCenter is the center new nodes attach to (made from it at start). */
  dataPlane: CenterServiceOptions['dataPlane'];
  /** How long a center URL may take to answer with its NATS INFO line, ms. */
  urlCheckTimeoutMs: number;
  /** Probes and routing (config routing.*); default central's (ROUTING_SETTINGS_DEFAULTS). */
  routing?: RoutingSettings;
  /** Traffic history (config traffic.*); default TRAFFIC_DEFAULTS. */
  traffic?: TrafficOptions;
  /** The brain's clustering and static policies (config brain.*); default CLUSTER_DEFAULTS. */
  clusters?: ClusterSettings;
  /** The brain's surge watch (config brain.*); default SURGE_DEFAULTS. */
  surges?: SurgeSettings;
  /** Central's root logger: services that log get a child of it ({ component }); absent: they log nothing. */
  logger?: Logger;
}

export interface Services {
  audit: AuditTrail;
  nodes: NodeService;
  assignments: AssignmentService;
  registry: RegistryService;
  reports: ReportService;
  /** Reads of record values (quarantine, report bodies, run errors) by the caller's role, scope and grants. */
  records: RecordAccessService;
  users: UserService;
  sharing: SharingService;
  /** Alarms (告警): the one raise path and the listing. */
  alerts: AlertService;
  catalog: CatalogService;
  objections: ObjectionService;
  evaluation: EvaluationService;
  calendar: WorkingCalendar;
  metrics: CentralMetrics;
  reconcile: ReconcileService;
  /** Exchange centers (交换中心), nodes' home centers and their data planes. */
  centers: CenterService;
  /** Links between centers. */
  links: LinkService;
  /** Probe windows (测试粒子) and link states. */
  probes: ProbeService;
  /** The relay (中继) role of nodes. */
  relays: RelayService;
  /** Routes between centers: evaluation, pins, RouteSpecs. */
  routing: RoutingService;
  /** Scheduling policies (策略): stored, explained, delivered as PolicySpecs. */
  policies: PolicyService;
  /** Traffic history of node pairs: buckets, rollup, import/export, series. */
  traffic: TrafficService;
  /** The brain's clustering of pairs by traffic shape and the static policies it writes. */
  clusters: ClusterService;
  /** Dynamic node allocation (动态节点分配): shard plans spreading a sync task's flow over standby agents. */
  shards: ShardService;
  /** The brain's surge watch: detectors per pair, surges, dynamic policies, replays of imported history. */
  surges: SurgeService;
  /** Tide allocation: sync tasks spread over standbys while their brain static policy's pre-warm window holds. */
  tide: TideService;
  /** The brain's runs and surges as the API shows them. */
  brainViews: BrainViews;
  /** The dashboard's headline summary and volume trend, scoped. */
  dashboard: DashboardService;
  /** The dashboard's topology: centers, links, flows and their routes, scoped. */
  topology: TopologyService;
}

export function createServices(store: Store, clock: () => number, opts: ServiceOptions): Services {
  // The collectors read nodes and assignments lazily, at scrape time.
  const metrics = centralMetrics(store, clock, () => ({ nodes, assignments }));
  const audit = new AuditTrail(store, clock);
  const nodes = new NodeService(
    store,
    clock,
    {
      heartbeatTtlMs: opts.heartbeatTtlMs,
      enrollTokenTtlMs: opts.enrollTokenTtlMs,
      homeCenter: opts.dataPlane.homeCenter,
      onTransition: (t) => {
        metrics.nodeTransitions.inc({ to: t.to });
        opts.onTransition?.(t);
      },
    },
    audit,
  );
  const alerts = new AlertService(store);
  const assignments = new AssignmentService(store, clock, audit, alerts);
  const calendar = new WorkingCalendar(opts.calendar);
  const sharing = new SharingService(store, clock, audit, assignments, alerts, {
    calendar,
    approvalWorkingDays: opts.approvalWorkingDays,
    agreementValidityDays: opts.agreementValidityDays,
  });
  const reports = new ReportService(store, clock, audit);
  const reconcile = new ReconcileService(store, clock, audit, assignments, alerts, {
    defaultIntervalMs: opts.verifyIntervalMs ?? 0,
  });
  reports.onReconcile = (nodeId, body) => reconcile.ingest(nodeId, body);
  const routingSettings = opts.routing ?? ROUTING_SETTINGS_DEFAULTS;
  const probes = new ProbeService(store, routingSettings, {
    windowMs: routingSettings.windowMs,
    retentionMs: routingSettings.probeRetentionMs,
  });
  reports.onProbe = (nodeId, reportId, body, receivedAt, at) => probes.ingest(nodeId, reportId, body, receivedAt, at);
  const policies = new PolicyService(store, clock, audit, assignments);
  const shards = new ShardService(store, clock, audit, assignments, opts.logger?.child({ component: 'shards' }));
  reports.onShard = (nodeId, body) => shards.onReport(nodeId, body);
  const brain = brainServices(store, clock, opts, { reports, policies, alerts, metrics });
  const tide = allocation(store, clock, opts, { policies, shards, surges: brain.surges });
  const relays = new RelayService(store, clock, audit, assignments, {
    probeIntervalMs: routingSettings.probeIntervalMs,
  });
  return {
    audit,
    nodes,
    assignments,
    registry: new RegistryService(store, clock, audit),
    reports,
    records: new RecordAccessService(store, audit, reports),
    users: new UserService(store, clock, audit),
    sharing,
    alerts,
    catalog: new CatalogService(store, clock, audit, sharing.subscriptions),
    objections: new ObjectionService(store, clock, audit),
    evaluation: new EvaluationService(store, clock),
    calendar,
    metrics,
    reconcile,
    centers: new CenterService(store, clock, audit, assignments, relays, {
      dataPlane: opts.dataPlane,
      urlCheckTimeoutMs: opts.urlCheckTimeoutMs,
    }),
    links: new LinkService(store, clock, audit, relays, { urlCheckTimeoutMs: opts.urlCheckTimeoutMs }),
    probes,
    relays,
    routing: new RoutingService(store, clock, audit, probes, relays, assignments, routingSettings),
    policies,
    shards,
    tide,
    ...brain,
    dashboard: new DashboardService(store, clock, brain.traffic.zone, {
      calendar,
      approvalWorkingDays: opts.approvalWorkingDays,
    }),
    topology: new TopologyService(store, clock, probes),
  };
}

/**
 * Dynamic node allocation's deciders over the one allocator (ShardService): the surge watch, and the tide
 * allocation, which also keeps a surge's end from merging a flow while its pre-warm window is open.
 */
function allocation(
  store: Store,
  clock: () => number,
  opts: ServiceOptions,
  s: { policies: PolicyService; shards: ShardService; surges: SurgeService },
): TideService {
  s.surges.allocation = s.shards;
  const spreadMax = (opts.surges ?? SURGE_DEFAULTS).spreadAgentsMax;
  const log = opts.logger?.child({ component: 'tide' });
  const tide = new TideService(store, s.policies, s.shards, clock, spreadMax, log);
  s.shards.tideWindow = (taskId) => tide.windowAt(taskId);
  return tide;
}
/**
 * Traffic history (fed by the agents' traffic reports) and the brain over it: clustering with its static
 * policies, and the surge watch (which replays each import's history).
 */
function brainServices(
  store: Store,
  clock: () => number,
  opts: ServiceOptions,
  deps: { reports: ReportService; policies: PolicyService; alerts: AlertService; metrics: CentralMetrics },
): Pick<Services, 'traffic' | 'clusters' | 'surges' | 'brainViews'> {
  const { reports, policies, alerts } = deps;
  const traffic = new TrafficService(store, clock, opts.traffic ?? TRAFFIC_DEFAULTS);
  reports.onTraffic = (nodeId, reportId, body, receivedAt, at) => {
    const fresh = traffic.ingest(nodeId, reportId, body, receivedAt, at);
    if (fresh) deps.metrics.observeTraffic(body); // a retried report is stored once and counted once
    return fresh;
  };
  const surges = new SurgeService(
    store,
    traffic,
    policies,
    alerts,
    opts.calendar,
    clock,
    opts.surges ?? SURGE_DEFAULTS,
    opts.logger?.child({ component: 'surges' }),
  );
  traffic.onImported = (e) => surges.queueReplay(e);
  const clusters = new ClusterService(
    store,
    traffic,
    policies,
    opts.calendar,
    clock,
    opts.clusters ?? CLUSTER_DEFAULTS,
  );
  return { traffic, clusters, surges, brainViews: new BrainViews(store, traffic, opts.calendar) };
}

/** Central's metrics; `live` gives the services the collectors read at scrape time. */
function centralMetrics(
  store: Store,
  clock: () => number,
  live: () => { nodes: NodeService; assignments: AssignmentService },
): CentralMetrics {
  return new CentralMetrics({
    nodesByStatus: () => {
      const counts: Record<string, number> = {};
      for (const n of live().nodes.list()) counts[n.status] = (counts[n.status] ?? 0) + 1;
      return counts;
    },
    parkedPolls: () => live().assignments.parkedPolls,
    state: {
      openAlerts: () => store.metrics.openAlerts(),
      tasks: () => store.metrics.tasks(),
      applications: () => store.metrics.applications(clock()),
      nodesByDepartment: () => store.metrics.nodesByDepartment(),
    },
    // Only centers that still have a monitoring URL (a removed one's last sample is not exported).
    centers: () => {
      const monitored = new Set(
        store.centers
          .list()
          .filter((c) => c.monitorUrl)
          .map((c) => c.code),
      );
      return store.centers.healthAll().filter((s) => monitored.has(s.centerCode));
    },
  });
}
