// SqliteSpool: the agent's local truth (spool.db in the data dir). It owns the report outbox and the last
// assignment set; the data-plane outbox/inbox/quarantine tables join it through later migrations.
//
// Invariants
//  - Every open sets journal_mode=WAL and synchronous explicitly (FULL by default) before any write.
//  - A report is written to report_outbox before anyone is told about it, and leaves the outbox only when
//    central has acknowledged its report_id (deleteReports is called with acked ids only). A crash at any
//    point therefore loses nothing; it may resend a report whose ack was lost, which central deduplicates
//    by report_id.
//  - report_outbox.seq comes from AUTOINCREMENT: strictly increasing, never reused, also across restarts.
//  - A report central refuses as invalid (not retryable) moves, in one transaction, from report_outbox to
//    report_dead_letter with the reason, together with an event report saying so: it is kept, never
//    silently dropped, and the reports after it are no longer held up. Nothing else leaves the outbox
//    unacknowledged (thinning of metrics samples aside, see SpoolOptions.maxReports; and probe windows
//    older than control/reports.ts PROBE_MAX_AGE_MS, dropped by dropReportsBefore).
//  - assignment_state holds at most one row: the full set at the version last applied; a restart while
//    central is down resumes from it.
import { randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import { AgentError, AgentErrorCode } from '../errors.js';
import { limitPageCache } from '../sqlite-cache.js';

type Db = Database.Database;

const MIGRATIONS: readonly string[] = [
  `CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
   CREATE TABLE report_outbox (
     seq         INTEGER PRIMARY KEY AUTOINCREMENT,
     report_id   TEXT NOT NULL UNIQUE,
     kind        TEXT NOT NULL,
     body_json   TEXT NOT NULL,
     observed_at INTEGER NOT NULL
   );
   CREATE TABLE assignment_state (
     id          INTEGER PRIMARY KEY CHECK (id = 1),
     version     INTEGER NOT NULL,
     assignments TEXT NOT NULL,
     updated_at  INTEGER NOT NULL
   ) STRICT;`,
  // 2: the data plane (see data-spool.ts for the invariants).
  `CREATE TABLE data_outbox (
     id           INTEGER PRIMARY KEY AUTOINCREMENT,
     batch_id     TEXT NOT NULL UNIQUE,
     task_id      TEXT NOT NULL,
     epoch        TEXT NOT NULL,
     sequence     INTEGER NOT NULL,
     subject      TEXT NOT NULL,
     envelope     BLOB NOT NULL,
     records      INTEGER NOT NULL,
     bytes        INTEGER NOT NULL,
     created_at   INTEGER NOT NULL,
     published_at INTEGER,
     send_count   INTEGER NOT NULL DEFAULT 0,
     UNIQUE (task_id, epoch, sequence)
   );
   CREATE INDEX data_outbox_unpublished ON data_outbox (id) WHERE published_at IS NULL;
   CREATE TABLE task_state (
     task_id       TEXT PRIMARY KEY,
     epoch         TEXT NOT NULL,
     next_sequence INTEGER NOT NULL,
     cursor        TEXT,
     passes        INTEGER NOT NULL DEFAULT 0,
     updated_at    INTEGER NOT NULL
   ) STRICT;
   CREATE TABLE quarantine (
     id          INTEGER PRIMARY KEY,
     task_id     TEXT NOT NULL,
     side        TEXT NOT NULL CHECK (side IN ('provider', 'consumer')),
     origin      TEXT NOT NULL,              -- batch id or source cursor: with row_index unique per record
     row_index   INTEGER NOT NULL,
     reason      TEXT NOT NULL,
     field       TEXT,
     record      TEXT NOT NULL,              -- the original values as JSON
     created_at  INTEGER NOT NULL,
     resent_at   INTEGER,
     reported    INTEGER NOT NULL DEFAULT 0, -- 1 once central acknowledged a report carrying it
     UNIQUE (task_id, origin, row_index)
   ) STRICT;
   CREATE INDEX quarantine_task ON quarantine (task_id, resent_at);
   CREATE INDEX quarantine_unreported ON quarantine (id) WHERE reported = 0;`,
  // 3: file transfers (断点续传): the source file is its own spool; this row is the resume point.
  `CREATE TABLE file_transfers (
     task_id      TEXT NOT NULL,
     rel_path     TEXT NOT NULL,
     size         INTEGER NOT NULL,
     mtime_ms     INTEGER NOT NULL,
     file_id      TEXT NOT NULL UNIQUE,
     chunk_bytes  INTEGER NOT NULL,
     chunk_count  INTEGER NOT NULL,
     acked_chunks INTEGER NOT NULL DEFAULT 0,
     state        TEXT NOT NULL CHECK (state IN ('sending', 'done')),
     started_at   INTEGER NOT NULL,
     finished_at  INTEGER,
     PRIMARY KEY (task_id, rel_path)
   ) STRICT;`,
  // 4: reports central refused as invalid, set aside so the outbox goes on (kept for the operator).
  `CREATE TABLE report_dead_letter (
     seq          INTEGER PRIMARY KEY,       -- the report's seq in report_outbox
     report_id    TEXT NOT NULL UNIQUE,
     kind         TEXT NOT NULL,
     body_json    TEXT NOT NULL,
     observed_at  INTEGER NOT NULL,
     reason       TEXT NOT NULL,             -- central's refusal (gRPC status and message)
     set_aside_at INTEGER NOT NULL
   ) STRICT;`,
  // 5: the file version a transfer sends: size, mtime and ctime in ns, inode (see file-spool.ts).
  `ALTER TABLE file_transfers ADD COLUMN version TEXT NOT NULL DEFAULT '';`,
];

export interface OutboxReport {
  seq: number;
  reportId: string;
  kind: string;
  body: Record<string, unknown>;
  observedAt: number;
}

export interface SpoolOptions {
  synchronous: 'FULL' | 'NORMAL';
  /** Reports kept at most; past it the oldest metrics samples are thinned (never task runs or events). */
  maxReports: number;
}

export class SqliteSpool {
  readonly db: Db;
  /** A second connection with synchronous=NORMAL for writes that are safe to lose (see data-spool.ts). */
  readonly hintDb: Db;
  private readonly stmts;

  constructor(
    readonly file: string,
    private readonly opts: SpoolOptions,
  ) {
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma(`synchronous = ${opts.synchronous}`);
    this.db.pragma('busy_timeout = 5000');
    limitPageCache(this.db);
    try {
      this.migrate();
    } catch (err) {
      this.db.close();
      throw new AgentError(AgentErrorCode.SPOOL_CORRUPT, (err as Error).message, { cause: err });
    }
    this.hintDb = new Database(file);
    this.hintDb.pragma('synchronous = NORMAL');
    this.hintDb.pragma('busy_timeout = 5000');
    limitPageCache(this.hintDb);
    this.stmts = {
      insertReport: this.db.prepare(
        'INSERT INTO report_outbox (report_id, kind, body_json, observed_at) VALUES (?, ?, ?, ?)',
      ),
      peekReports: this.db.prepare(
        'SELECT seq, report_id, kind, body_json, observed_at FROM report_outbox ORDER BY seq LIMIT ?',
      ),
      deleteReport: this.db.prepare('DELETE FROM report_outbox WHERE report_id = ?'),
      replaceReportBody: this.db.prepare('UPDATE report_outbox SET body_json = ? WHERE report_id = ?'),
      insertDeadLetter: this.db.prepare(
        'INSERT INTO report_dead_letter (seq, report_id, kind, body_json, observed_at, reason, set_aside_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ),
      countReports: this.db.prepare('SELECT count(*) AS n FROM report_outbox'),
      dropReports: this.db.prepare('DELETE FROM report_outbox WHERE kind = ? AND observed_at < ?'),
      thinMetrics: this.db.prepare(
        `DELETE FROM report_outbox WHERE seq IN (SELECT seq FROM report_outbox WHERE kind = 'metrics' ORDER BY seq LIMIT ?)`,
      ),
      getMeta: this.db.prepare('SELECT value FROM meta WHERE key = ?'),
      setMeta: this.db.prepare(
        'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
      ),
      getAssignments: this.db.prepare('SELECT version, assignments FROM assignment_state WHERE id = 1'),
      setAssignments: this.db.prepare(
        `INSERT INTO assignment_state (id, version, assignments, updated_at) VALUES (1, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET version = excluded.version, assignments = excluded.assignments, updated_at = excluded.updated_at`,
      ),
    };
  }

  private migrate(): void {
    const current = this.db.pragma('user_version', { simple: true }) as number;
    if (current > MIGRATIONS.length)
      throw new Error(
        `spool ${this.file} has schema version ${current}, newer than this agent knows (${MIGRATIONS.length})`,
      );
    for (let v = current; v < MIGRATIONS.length; v++) {
      this.db.transaction(() => {
        this.db.exec(MIGRATIONS[v]!);
        this.db.pragma(`user_version = ${v + 1}`);
      })();
    }
  }

  /** Durably records a report; returns it with its seq and report_id. */
  enqueueReport(kind: string, body: Record<string, unknown>, observedAt: number): OutboxReport {
    return this.db.transaction(() => {
      const depth = (this.stmts.countReports.get() as { n: number }).n;
      if (depth >= this.opts.maxReports) this.stmts.thinMetrics.run(Math.max(1, depth - this.opts.maxReports + 1));
      const reportId = randomUUID();
      const info = this.stmts.insertReport.run(reportId, kind, JSON.stringify(body), observedAt);
      return { seq: Number(info.lastInsertRowid), reportId, kind, body, observedAt };
    })();
  }

  /** The oldest reports, in seq order, without removing them. */
  peekReports(limit: number): OutboxReport[] {
    return (
      this.stmts.peekReports.all(limit) as {
        seq: number;
        report_id: string;
        kind: string;
        body_json: string;
        observed_at: number;
      }[]
    ).map((r) => ({
      seq: r.seq,
      reportId: r.report_id,
      kind: r.kind,
      body: JSON.parse(r.body_json) as Record<string, unknown>,
      observedAt: r.observed_at,
    }));
  }

  /** Removes reports central acknowledged. */
  deleteReports(reportIds: readonly string[]): void {
    this.db.transaction(() => {
      for (const id of reportIds) this.stmts.deleteReport.run(id);
    })();
  }

  /** Replaces a queued report's body (a trimmed version that fits central's message limit); same id and seq. */
  replaceReportBody(reportId: string, body: Record<string, unknown>): void {
    this.stmts.replaceReportBody.run(JSON.stringify(body), reportId);
  }

  /**
   * Moves a report central refused as invalid to report_dead_letter with the reason and, in the same
   * transaction, queues the event report that tells central; returns that event.
   */
  setReportAside(r: OutboxReport, reason: string, at: number, event: Record<string, unknown>): OutboxReport {
    return this.db.transaction(() => {
      this.stmts.insertDeadLetter.run(r.seq, r.reportId, r.kind, JSON.stringify(r.body), r.observedAt, reason, at);
      this.stmts.deleteReport.run(r.reportId);
      return this.enqueueReport('event', event, at);
    })();
  }

  /** Deletes the reports of `kind` observed before `before` (epoch ms) still in the outbox; returns how many. */
  dropReportsBefore(kind: string, before: number): number {
    return this.stmts.dropReports.run(kind, before).changes;
  }

  get reportDepth(): number {
    return (this.stmts.countReports.get() as { n: number }).n;
  }

  getMeta(key: string): string | undefined {
    return (this.stmts.getMeta.get(key) as { value: string } | undefined)?.value;
  }

  setMeta(key: string, value: string): void {
    this.stmts.setMeta.run(key, value);
  }

  loadAssignments<T>(): { version: number; assignments: T[] } | undefined {
    const r = this.stmts.getAssignments.get() as { version: number; assignments: string } | undefined;
    return r && { version: r.version, assignments: JSON.parse(r.assignments) as T[] };
  }

  saveAssignments(version: number, assignments: readonly unknown[], at: number): void {
    this.stmts.setAssignments.run(version, JSON.stringify(assignments), at);
  }

  /** Bytes of the spool database's pages (the WAL is not counted: it is checkpointed back into them). */
  sizeBytes(): number {
    const pages = this.db.pragma('page_count', { simple: true }) as number;
    const size = this.db.pragma('page_size', { simple: true }) as number;
    return pages * size;
  }

  close(): void {
    if (this.hintDb.open) this.hintDb.close();
    if (this.db.open) this.db.close();
  }
}
