// The store: every table of central.db behind one object. SQL lives only under store/.
import { AlertStore } from './alerts.js';
import { AuditStore } from './audit.js';
import { BrainStore } from './brain.js';
import { CatalogStore } from './catalog.js';
import { CenterStore } from './centers.js';
import { openDatabase, type Db } from './db.js';
import { EvaluationStore } from './evaluation.js';
import { MetricsStore } from './metrics.js';
import { ObjectionStore } from './objections.js';
import { ProbeStore } from './probes.js';
import { RouteStore } from './routes.js';
import { SharingStore } from './sharing.js';
import { UserStore } from './users.js';
import { NodeStore } from './nodes.js';
import { RegionStore } from './regions.js';
import { ReportStore } from './reports.js';
import { TaskStore } from './tasks.js';
import { TrafficStore } from './traffic.js';
import { VerificationStore } from './verifications.js';

export type * from './nodes.js';
export type * from './regions.js';
export type * from './reports.js';
export type * from './tasks.js';
export type * from './users.js';
export type * from './catalog.js';
export type * from './sharing.js';
export type * from './objections.js';
export type * from './audit.js';
export type * from './evaluation.js';
export type * from './verifications.js';
export type * from './alerts.js';
export type * from './centers.js';
export type * from './probes.js';
export type * from './routes.js';
export type * from './traffic.js';
export type * from './brain.js';
export type * from './metrics.js';

export class Store {
  readonly regions: RegionStore;
  readonly nodes: NodeStore;
  readonly tasks: TaskStore;
  readonly reports: ReportStore;
  readonly users: UserStore;
  readonly catalog: CatalogStore;
  readonly sharing: SharingStore;
  readonly objections: ObjectionStore;
  readonly audit: AuditStore;
  readonly evaluation: EvaluationStore;
  readonly verifications: VerificationStore;
  readonly alerts: AlertStore;
  readonly centers: CenterStore;
  readonly probes: ProbeStore;
  readonly routes: RouteStore;
  readonly traffic: TrafficStore;
  readonly brain: BrainStore;
  /** Grouped counts for /metrics. */
  readonly metrics: MetricsStore;

  constructor(readonly db: Db) {
    this.regions = new RegionStore(db);
    this.nodes = new NodeStore(db);
    this.tasks = new TaskStore(db);
    this.reports = new ReportStore(db);
    this.users = new UserStore(db);
    this.catalog = new CatalogStore(db);
    this.sharing = new SharingStore(db);
    this.objections = new ObjectionStore(db);
    this.audit = new AuditStore(db);
    this.evaluation = new EvaluationStore(db);
    this.verifications = new VerificationStore(db);
    this.alerts = new AlertStore(db);
    this.centers = new CenterStore(db);
    this.probes = new ProbeStore(db);
    this.routes = new RouteStore(db);
    this.traffic = new TrafficStore(db);
    this.brain = new BrainStore(db);
    this.metrics = new MetricsStore(db);
  }

  static open(file: string): Store {
    return new Store(openDatabase(file));
  }

  /** Runs fn in one SQLite transaction (IMMEDIATE: takes the write lock at once). */
  tx<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  ping(): boolean {
    return this.db.prepare('SELECT 1 AS ok').get() !== undefined;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
