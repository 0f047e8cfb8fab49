// A real PostgreSQL server for tests: its own cluster in a temp dir (initdb), on a free port, with the
// socket in that dir; never the machine's cluster or port 5432. As root it runs as the `postgres` user.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, chownSync, constants, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from './nats-server.js';
import { tmpDir } from './tmp.js';

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const p of live) p.kill('SIGKILL');
});

/** Directory of initdb/postgres of the newest PostgreSQL under /usr/lib/postgresql. */
export function postgresBinDir(): string {
  const root = '/usr/lib/postgresql';
  let versions: string[] = [];
  try {
    versions = readdirSync(root).filter((v) => /^\d+(\.\d+)?$/.test(v));
  } catch {
    /* none installed */
  }
  for (const v of versions.sort((a, b) => Number(b) - Number(a))) {
    const bin = join(root, v, 'bin');
    try {
      accessSync(join(bin, 'initdb'), constants.X_OK);
      accessSync(join(bin, 'postgres'), constants.X_OK);
      return bin;
    } catch {
      /* next */
    }
  }
  throw new Error(
    'PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin: install the postgresql package',
  );
}

/** uid/gid to run the server as: PostgreSQL refuses to run as root. */
function serverUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:'));
  const [, , uid, gid] = line?.split(':') ?? [];
  if (uid === undefined || gid === undefined)
    throw new Error('running as root and there is no `postgres` user to run PostgreSQL as');
  return { uid: Number(uid), gid: Number(gid) };
}

// Values in test queries as the connector's own choices make them comparable: int8 as a number when
// safe, numeric and date as text.
const TYPES = new pg.TypeOverrides();
TYPES.setTypeParser(pg.types.builtins.INT8, (v: string) => (Number.isSafeInteger(Number(v)) ? Number(v) : v));
TYPES.setTypeParser(pg.types.builtins.DATE, (v: string) => v);

export class PostgresServer {
  private child: ChildProcess | undefined;
  private stderr = '';
  private pool: pg.Pool | undefined;

  private constructor(
    readonly port: number,
    readonly dir: string,
    readonly database: string,
  ) {}

  private initialised = false;

  /** initdb, start, wait until it accepts connections, create `database`. */
  static async start(database = 'xchg_test'): Promise<PostgresServer> {
    const s = new PostgresServer(await freePort(), tmpDir('xchg-pg-'), database);
    await s.launch();
    return s;
  }

  /** Connection URL of the test database (user postgres, trust authentication). */
  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${this.database}`;
  }

  get output(): string {
    return this.stderr;
  }

  private get dataDir(): string {
    return join(this.dir, 'data');
  }

  private async launch(): Promise<void> {
    const bin = postgresBinDir();
    const user = serverUser();
    if (user) chownSync(this.dir, user.uid, user.gid);
    const env = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', LC_ALL: 'C', LANG: 'C', HOME: this.dir };
    const first = !this.initialised;
    this.initialised = true;
    if (first) this.initdb(bin, env, user);
    const args = [
      '-D',
      this.dataDir,
      '-p',
      String(this.port),
      '-k',
      this.dir,
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'fsync=off',
      '-c',
      'synchronous_commit=off',
      '-c',
      'full_page_writes=off',
    ];
    const child = spawn(join(bin, 'postgres'), args, {
      env,
      cwd: this.dir,
      stdio: ['ignore', 'ignore', 'pipe'],
      ...user,
    });
    this.child = child;
    live.add(child);
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      this.stderr = (this.stderr + d).slice(-20_000);
    });
    child.once('exit', () => live.delete(child));
    const deadline = Date.now() + 30_000;
    let last = '';
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null)
        throw new Error(`postgres exited ${child.exitCode ?? child.signalCode}:\n${this.stderr}`);
      const c = new pg.Client({
        host: '127.0.0.1',
        port: this.port,
        user: 'postgres',
        database: 'postgres',
        connectionTimeoutMillis: 2_000,
      });
      try {
        await c.connect();
        await c.query(first ? `CREATE DATABASE ${this.database}` : 'SELECT 1');
        await c.end();
        break;
      } catch (err) {
        last = (err as Error).message;
        await c.end().catch(() => {});
      }
      if (Date.now() > deadline)
        throw new Error(
          `postgres not accepting connections on ${this.port} after 30 s (last: ${last}):\n${this.stderr}`,
        );
      await new Promise((r) => setTimeout(r, 50));
    }
    this.pool = new pg.Pool({ connectionString: this.url, max: 2, types: TYPES });
    this.pool.on('error', () => {});
  }

  /** Runs one statement in the test database and returns its rows. */
  async query<T extends Record<string, unknown> = Record<string, unknown>>(
    sql: string,
    params: unknown[] = [],
  ): Promise<T[]> {
    if (!this.pool) throw new Error('postgres is not running');
    return (await this.pool.query<T>(sql, params)).rows;
  }

  private initdb(bin: string, env: NodeJS.ProcessEnv, user: { uid: number; gid: number } | undefined): void {
    const init = spawnSync(
      join(bin, 'initdb'),
      [
        '-D',
        this.dataDir,
        '-U',
        'postgres',
        '--auth=trust',
        '-E',
        'UTF8',
        '--locale=C',
        '--no-sync',
        '--no-instructions',
      ],
      {
        env,
        cwd: this.dir,
        encoding: 'utf8',
        ...user,
      },
    );
    if (init.status !== 0)
      throw new Error(
        `initdb failed (${init.status ?? init.signal}):\n${init.stdout}\n${init.stderr}${init.error ? `\n${init.error.message}` : ''}`,
      );
  }

  /** Starts the server again on the same data directory and port after stop(). */
  async restart(): Promise<void> {
    await this.launch();
  }

  /** Fast shutdown (SIGINT): running transactions are rolled back, clients disconnected. */
  async stop(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    await pool?.end();
    const c = this.child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise<void>((r) => c.once('exit', () => r()));
    c.kill('SIGINT');
    await exited;
  }
}
