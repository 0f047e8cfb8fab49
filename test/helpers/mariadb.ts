// A real MariaDB server for tests: its own data directory in a temp dir (mariadb-install-db), on a free
// port, socket in that dir; never the machine's server or port 3306. Root without a password on 127.0.0.1.
import * as mariadb from 'mariadb';
import { startMariadb, type MariadbProcess } from '../../scripts/mariadb-server.js';
import { freePort } from './nats-server.js';
import { tmpDir } from './tmp.js';

export class MariadbServer {
  private pool: mariadb.Pool | undefined;

  private constructor(
    private readonly proc: MariadbProcess,
    readonly database: string,
  ) {}

  /** Initialises a data dir, starts mariadbd, waits until it accepts connections, creates `database`. */
  static async start(database = 'xchg_test'): Promise<MariadbServer> {
    const proc = await startMariadb(tmpDir('xchg-mariadb-'), await freePort(), [database]);
    const s = new MariadbServer(proc, database);
    // Test queries see values as the driver gives them by default except: BIGINT as bigint, DECIMAL and
    // dates as the server's text, JSON as text; sessions in UTC so TIMESTAMP reads are zone-free.
    s.pool = mariadb.createPool({
      host: '127.0.0.1',
      port: proc.port,
      user: 'root',
      database,
      connectionLimit: 2,
      bigIntAsNumber: false,
      decimalAsNumber: false,
      insertIdAsNumber: true,
      dateStrings: true,
      autoJsonMap: false,
      checkDuplicate: false,
      initSql: ["SET time_zone = '+00:00'"],
    });
    return s;
  }

  get port(): number {
    return this.proc.port;
  }

  /** Connection settings of the test database for a binding. */
  get connection(): { host: string; port: number; user: string; database: string } {
    return { host: '127.0.0.1', port: this.proc.port, user: 'root', database: this.database };
  }

  get output(): string {
    return this.proc.output();
  }

  /** Runs one statement in the test database and returns its rows (objects) or its result. */
  async query<T = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> {
    if (!this.pool) throw new Error('mariadb is not running');
    return (await this.pool.query(sql, params)) as T[];
  }

  async stop(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    await pool?.end();
    await this.proc.stop();
  }
}
