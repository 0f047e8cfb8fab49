// Types shared by the HTTP app and its route modules (kept apart so routes do not import app.ts).
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { ShardService } from '../services/shards.js';
import type {
  FastifyBaseLogger,
  FastifyInstance,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
} from 'fastify';
import type { Logger } from 'pino';
import type { CentralMetrics } from '../metrics.js';
import type { AlertService } from '../services/alerts.js';
import type { AssignmentService } from '../services/assignments.js';
import type { AuditTrail } from '../services/audit.js';
import type { CatalogService } from '../services/catalog.js';
import type { CenterService } from '../services/centers.js';
import type { LinkService } from '../services/links.js';
import type { RelayService } from '../services/relays.js';
import type { RoutingService } from '../services/routing.js';
import type { PolicyService } from '../services/policies.js';
import type { EvaluationService } from '../services/evaluation.js';
import type { ObjectionService } from '../services/objections.js';
import type { RecordAccessService } from '../services/record-access.js';
import type { SharingService } from '../services/sharing.js';
import type { UserService } from '../services/users.js';
import type { NodeService } from '../services/nodes.js';
import type { RegistryService } from '../services/registry.js';
import type { ReportService } from '../services/reports.js';
import type { ReconcileService } from '../services/reconcile.js';
import type { TrafficService } from '../services/traffic.js';
import type { ClusterRunResult, ClusterService } from '../services/brain-clusters.js';
import type { BrainViews } from '../services/brain-views.js';
import type { DashboardService } from '../services/dashboard.js';
import type { TopologyService } from '../services/dashboard-topology.js';

/** What the HTTP app needs (main.ts wires it; tests build it from the real services). */
export interface HttpDeps {
  /** Dynamic node allocation of sync tasks (shard plans); absent: the routes are not served. */
  shards?: ShardService;
  /** Regions and departments. */
  registry: RegistryService;
  /** Nodes, their liveness and enrollment tokens. */
  nodes: NodeService;
  /** Tasks and what nodes made of them. */
  assignments: AssignmentService;
  reports: ReportService;
  /** Who sees which record values (quarantine, report bodies, run errors). */
  records: RecordAccessService;
  /** Users and token lookup (authentication). */
  users: UserService;
  catalog: CatalogService;
  /** Applications, agreements and subscriptions. */
  sharing: SharingService;
  alerts: AlertService;
  objections: ObjectionService;
  audit: AuditTrail;
  evaluation: EvaluationService;
  reconcile: ReconcileService;
  /** Exchange centers (交换中心) and nodes' home centers. */
  centers: CenterService;
  /** Links between centers. */
  links: LinkService;
  /** Link states, routes between centers and pins. */
  routing: RoutingService;
  /** Scheduling policies (策略). */
  policies: PolicyService;
  /** The relay (中继) of each center. */
  relays: RelayService;
  /** Traffic history of node pairs: show, import, export. */
  traffic: TrafficService;
  /** The brain's clustering of pairs (runs on demand). */
  clusters: ClusterService;
  /**
   * Runs the clustering for POST /clusters/run, one run at a time with the brain job's (jobs/brain.ts
   * clusterRunner: central runs it in a worker thread); absent: in process.
   */
  runClusters?: () => Promise<ClusterRunResult>;
  /** The brain's runs and surges as the API shows them. */
  brainViews: BrainViews;
  /** The dashboard's headline summary and volume trend. */
  dashboard: DashboardService;
  /** The dashboard's topology: centers, links, flows and their routes, scoped. */
  topology: TopologyService;
  metrics: CentralMetrics;
  /** The root logger; the app logs as component "http". */
  logger: Logger;
  /** The bootstrap province-admin token. */
  adminToken: string;
  /** Central's version, shown in the OpenAPI document. */
  version: string;
  /** Readiness: false while starting or draining. */
  ready: () => boolean;
  /** Readiness of the store: false when the database does not answer. */
  ping: () => boolean;
}

/** The fastify instance routes register on: node's HTTP server, pino-compatible logger, TypeBox schemas. */
export type App = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;
