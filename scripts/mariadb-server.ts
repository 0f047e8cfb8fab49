// A private MariaDB server for tests and the bench: its own data directory (mariadb-install-db), its own
// socket, a port it is given, bound to 127.0.0.1; never the machine's server or port 3306. The root user
// has no password (trust on loopback, as the PostgreSQL helper's cluster).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import * as mariadb from 'mariadb';

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const p of live) p.kill('SIGKILL');
});

/** Paths of mariadbd and mariadb-install-db (Debian's mariadb-server package); throws naming the package when missing. */
export function mariadbBinaries(): { server: string; installDb: string } {
  const find = (names: string[]): string | undefined => {
    for (const dir of [
      '/usr/sbin',
      '/usr/bin',
      '/usr/local/sbin',
      '/usr/local/bin',
      ...(process.env['PATH'] ?? '').split(':'),
    ])
      for (const n of names) {
        try {
          accessSync(join(dir, n), constants.X_OK);
          return join(dir, n);
        } catch {
          /* next */
        }
      }
    return undefined;
  };
  const server = find(['mariadbd', 'mysqld']);
  const installDb = find(['mariadb-install-db', 'mysql_install_db']);
  if (!server || !installDb)
    throw new Error(
      'MariaDB server binaries (mariadbd, mariadb-install-db) not found: install the mariadb-server package (scripts/setup.sh does)',
    );
  return { server, installDb };
}

export interface MariadbProcess {
  readonly port: number;
  readonly dir: string;
  child: ChildProcess;
  /** The last 20,000 characters of the server's error log (stderr). */
  output(): string;
  /** Graceful shutdown (SIGTERM); resolves when the process has exited. */
  stop(): Promise<void>;
}

/**
 * Initialises a data directory under `dir` and starts mariadbd on 127.0.0.1:`port`; resolves once it
 * accepts connections and `databases` exist (utf8mb4). Throws with the server's output when it does not
 * come up within 60 s. Settings favour speed over durability (no doublewrite, log flushed once a second):
 * this server is for tests and measurements only.
 */
export async function startMariadb(dir: string, port: number, databases: string[] = []): Promise<MariadbProcess> {
  const bin = mariadbBinaries();
  const dataDir = join(dir, 'data');
  mkdirSync(dir, { recursive: true });
  const asRoot = process.getuid?.() === 0;
  const user = asRoot ? ['--user=root'] : [];
  const env = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', LC_ALL: 'C', LANG: 'C', HOME: dir };
  const init = spawnSync(
    bin.installDb,
    ['--no-defaults', `--datadir=${dataDir}`, '--auth-root-authentication-method=normal', '--skip-test-db', ...user],
    { env, cwd: dir, encoding: 'utf8' },
  );
  if (init.status !== 0)
    throw new Error(
      `mariadb-install-db failed (${init.status ?? init.signal}):\n${init.stdout}\n${init.stderr}${init.error ? `\n${init.error.message}` : ''}`,
    );
  const args = [
    '--no-defaults',
    `--datadir=${dataDir}`,
    `--socket=${join(dir, 'mysqld.sock')}`,
    `--pid-file=${join(dir, 'mysqld.pid')}`,
    `--port=${port}`,
    '--bind-address=127.0.0.1',
    '--skip-name-resolve',
    ...user,
    // Like many department servers: in China Standard Time and permissive (no strict mode), so the
    // connector's own session settings (UTC for TIMESTAMP, strict writes) are what tests rely on.
    '--default-time-zone=+08:00',
    '--sql-mode=NO_ENGINE_SUBSTITUTION',
    '--character-set-server=utf8mb4',
    '--collation-server=utf8mb4_unicode_ci',
    // Room for 16 MiB values (and batches of them) in one statement.
    '--max-allowed-packet=1G',
    '--innodb-buffer-pool-size=256M',
    '--innodb-flush-log-at-trx-commit=2',
    '--innodb-doublewrite=0',
    '--skip-log-bin',
  ];
  const child = spawn(bin.server, args, { env, cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  live.add(child);
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    stderr = (stderr + d).slice(-20_000);
  });
  child.once('exit', () => live.delete(child));
  const deadline = Date.now() + 60_000;
  let last = '';
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`mariadbd exited ${child.exitCode ?? child.signalCode}:\n${stderr}`);
    let conn: mariadb.Connection | undefined;
    try {
      conn = await mariadb.createConnection({ host: '127.0.0.1', port, user: 'root', connectTimeout: 2_000 });
      for (const db of databases)
        await conn.query(
          `CREATE DATABASE IF NOT EXISTS \`${db.replaceAll('`', '``')}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`,
        );
      await conn.end();
      break;
    } catch (err) {
      last = (err as Error).message;
      await conn?.end().catch(() => {});
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`mariadbd not accepting connections on ${port} after 60 s (last: ${last}):\n${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    port,
    dir,
    child,
    output: () => stderr,
    async stop(): Promise<void> {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
