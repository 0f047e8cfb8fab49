// What the multi-center test topologies share (routed-exchange.ts, moving-exchange.ts): the processes they
// start, a population source and its sink in a temp dir, the sink's row count, the comparison of sink with
// source after masking, and stopping everything.
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { PERSON_FIELDS } from '../../scripts/synthetic.js';
import { compareTables } from '../../scripts/verify.js';
import type { AgentProcess } from './agent.js';
import type { Api } from './api.js';
import type { CentralProcess } from './central.js';
import type { Centers } from './centers.js';
import { tmpDir } from './tmp.js';

export const FAST_DP = { receiptTimeoutMs: 2_000, runReportIntervalMs: 500, pollIntervalMs: 100 };

export class PopulationExchange {
  centers!: Centers;
  central!: CentralProcess;
  api!: Api;
  readonly relays = new Map<string, AgentProcess>();
  provider!: AgentProcess;
  consumer!: AgentProcess;
  providerId = '';
  consumerId = '';
  readonly dir: string;
  readonly sourcePath: string;
  readonly sinkPath: string;

  /** @param dirPrefix the temp dir's prefix (e.g. 'xchg-routed-') */
  constructor(dirPrefix: string) {
    this.dir = tmpDir(dirPrefix);
    this.sourcePath = join(this.dir, 'population.db');
    this.sinkPath = join(this.dir, 'received.db');
  }

  /** Rows at the sink (0 while it does not exist yet). */
  sinkCount(): number {
    try {
      const db = new Database(this.sinkPath, { readonly: true, fileMustExist: true });
      try {
        return (db.prepare('SELECT count(*) AS n FROM person').get() as { n: number }).n;
      } finally {
        db.close();
      }
    } catch {
      return 0;
    }
  }

  /** Problems of the sink against the source after masking, record by record (empty: equal). */
  compare(): { problems: string[]; rows: number } {
    return compareTables(
      { path: this.sourcePath, table: 'person', key: 'id', deleted: 'deleted' },
      { path: this.sinkPath, table: 'person' },
      PERSON_FIELDS,
    );
  }

  async stop(): Promise<void> {
    const agents = [this.provider, this.consumer, ...this.relays.values()];
    await Promise.all(agents.map((a) => a?.stop('SIGKILL')));
    await this.central?.stop();
    await this.centers?.stop();
  }
}
