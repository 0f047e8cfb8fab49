// The store: every table of central.db behind one object. SQL lives only under store/.
import { openDatabase, type Db } from './db.js';
import { NodeStore } from './nodes.js';
import { RegionStore } from './regions.js';
import { ReportStore } from './reports.js';
import { TaskStore } from './tasks.js';

export type * from './nodes.js';
export type * from './regions.js';
export type * from './reports.js';
export type * from './tasks.js';

export class Store {
  readonly regions: RegionStore;
  readonly nodes: NodeStore;
  readonly tasks: TaskStore;
  readonly reports: ReportStore;

  constructor(readonly db: Db) {
    this.regions = new RegionStore(db);
    this.nodes = new NodeStore(db);
    this.tasks = new TaskStore(db);
    this.reports = new ReportStore(db);
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
