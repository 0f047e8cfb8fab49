// Reconciliation (对账), provider side: answers the consumer's digest and row questions about one
// subscription from a full, key-order read of the source put through the subscription's own pipeline
// (the same fields, filters and masking as its batches), and carries out repairs in the sync task's loop.
//
// Invariants
//  - Only the subscription's consumer node is answered; only the granted, masked projection is hashed or
//    listed, and only as keys and hashes (values travel in repairs, through the normal stream).
//  - Repairs are committed by the sync loop between two of its own steps (commitRepairs), into the task's
//    own outbox stream: the re-read rows are newer than everything committed before them and older than
//    what the loop reads after, so the sink never goes back to an older version, and the stream's
//    sequence and exactly-once ledger hold for repairs too.
//  - A key the source does not hold now (deleted, filtered out, soft-deleted) is repaired by a tombstone.
//  - Full scans read page by page, each page under one of the agent's read slots (like a sync step).
import type { Logger } from 'pino';
import type { RecordSource } from '../connectors/types.js';
import type { DataPlane } from '../exchange/data-plane.js';
import { readSlots } from '../exchange/read-slots.js';
import type { Pipeline, PipelineSpec } from '../pipeline/index.js';
import type { TaskState } from '../spool/data-spool.js';
import { rowFromWire, rowToWire } from '../values/wire.js';
import { BucketDigest, RowHasher, bucketOf, keyText } from './digest.js';
import {
  MAX_REPLY_BYTES,
  comparisonPipeline,
  type DigestAnswer,
  type DigestQuestion,
  type RepairAnswer,
  type RepairQuestion,
  type RowsAnswer,
  type RowsQuestion,
} from './protocol.js';

const PAGE_ROWS = 5_000;
/** Row lists kept for paging this long after the last page was asked for. */
const ROWS_CACHE_MS = 120_000;
/** Most rows listed for one question (the consumer refuses to narrow more than this). */
export const MAX_LISTED_ROWS = 2_000_000;

export interface ReconcileProviderDeps {
  task: { id: string; subscriptionId: string; peerNodeId: string };
  params: PipelineSpec;
  /** The sync task's compiled pipeline. */
  pipeline: Pipeline;
  /** The sync task's source (online-query style lookups by key, for repairs). */
  source: RecordSource;
  /** Opens the same binding read in full key order (closed after each use). */
  openScan: () => RecordSource;
  dataPlane: DataPlane;
  log: Logger;
}

/** A batch of rows the sync loop commits into its stream. */
export interface RepairRows {
  columns: string[];
  rows: unknown[][];
  ops: ('u' | 'd')[];
}

interface RepairJob {
  q: RepairQuestion;
  done: (a: RepairAnswer) => void;
}

/** A page as a source reads it. */
type Page = Awaited<ReturnType<RecordSource['read']>>;

/** A compared row: key text, key values (consumer names), and the compared values in `columns` order. */
type Visit = (key: string, keyValues: unknown[], values: unknown[]) => void;

export class ReconcileProvider {
  private readonly verifier: Pipeline;
  private readonly sourceName: Map<string, string>;
  private readonly jobs: RepairJob[] = [];
  private kick = new AbortController();
  /** Aborts when the sync task stops (a scan waiting for a read slot gives up). */
  private readonly closed = new AbortController();
  private readonly cache = new Map<
    string,
    { sig: string; entries: [unknown[], number, number][]; timer: NodeJS.Timeout }
  >();

  constructor(private readonly deps: ReconcileProviderDeps) {
    this.verifier = comparisonPipeline(deps.params);
    this.sourceName = new Map((deps.params.fields ?? []).map((f) => [f.as ?? f.name, f.name]));
    deps.dataPlane.registerReconcile(deps.task.subscriptionId, (q) => this.answer(q));
  }

  close(): void {
    this.closed.abort();
    this.deps.dataPlane.unregisterReconcile(this.deps.task.subscriptionId);
    for (const c of this.cache.values()) clearTimeout(c.timer);
    this.cache.clear();
    for (const j of this.jobs.splice(0))
      j.done({ ok: false, error: 'the sync task stopped before the repair was committed' });
  }

  /** A signal that aborts with `signal` or when a repair is waiting (the loop's idle sleep ends early). */
  wakeSignal(signal: AbortSignal): AbortSignal {
    return AbortSignal.any([signal, this.kick.signal]);
  }

  private async answer(q: Record<string, unknown>): Promise<unknown> {
    const { task } = this.deps;
    if (q['requester'] !== task.peerNodeId)
      return { ok: false, error: `node ${String(q['requester'])} does not hold subscription ${task.subscriptionId}` };
    try {
      switch (q['op']) {
        case 'digest':
          return await this.digest(q as unknown as DigestQuestion);
        case 'rows':
          return await this.rows(q as unknown as RowsQuestion);
        case 'repair':
          return await new Promise<RepairAnswer>((done) => {
            this.jobs.push({ q: q as unknown as RepairQuestion, done });
            this.kick.abort();
          });
        default:
          return { ok: false, error: `unknown reconciliation question ${JSON.stringify(q['op'])}` };
      }
    } catch (err) {
      this.deps.log.warn({ op: q['op'], err: (err as Error).message }, 'reconciliation question failed');
      return { ok: false, error: (err as Error).message };
    }
  }

  private async digest(q: DigestQuestion): Promise<DigestAnswer> {
    const started = Date.now();
    const digest = new BucketDigest(q.buckets);
    const hasher = new RowHasher(q.columns);
    const { rejected } = await this.scan(q, (key, _k, values) =>
      digest.add(bucketOf(key, q.buckets), hasher.hashRow(key, values)),
    );
    this.deps.log.info(
      { runId: q.runId, rows: digest.rows, rejected, ms: Date.now() - started },
      'reconciliation digest computed',
    );
    return { ok: true, digest: digest.encode(), rows: digest.rows, rejected };
  }

  private async rows(q: RowsQuestion): Promise<RowsAnswer> {
    const sig = `${q.buckets}|${q.keyColumns.join(',')}|${q.columns.join(',')}|${q.select.join(',')}`;
    let cached = this.cache.get(q.runId);
    if (!cached || cached.sig !== sig) {
      if (cached) clearTimeout(cached.timer);
      const want = new Set(q.select);
      const hasher = new RowHasher(q.columns);
      const entries: [unknown[], number, number][] = [];
      await this.scan(q, (key, keyValues, values) => {
        if (!want.has(bucketOf(key, q.buckets))) return;
        if (entries.length >= MAX_LISTED_ROWS)
          throw new Error(`more than ${MAX_LISTED_ROWS} rows in the differing buckets`);
        const [h1, h2] = hasher.hashRow(key, values);
        entries.push([rowToWire(keyValues), h1, h2]);
      });
      cached = { sig, entries, timer: setTimeout(() => this.cache.delete(q.runId), ROWS_CACHE_MS) };
      this.cache.set(q.runId, cached);
    }
    cached.timer.refresh();
    const out: [unknown[], number, number][] = [];
    let bytes = 0;
    let i = q.offset;
    for (; i < cached.entries.length && bytes < MAX_REPLY_BYTES; i++) {
      const e = cached.entries[i]!;
      out.push(e);
      bytes += JSON.stringify(e[0]).length + 24;
    }
    return { ok: true, total: cached.entries.length, entries: out, ...(i < cached.entries.length && { next: i }) };
  }

  /**
   * Reads the whole source in key order through the pipeline and the comparison's verification; calls
   * `visit` with each row that the consumer should hold. Rows the pipeline refuses are counted, not visited
   * (they are in quarantine, not missing).
   */
  private async scan(
    q: Pick<DigestQuestion, 'keyColumns' | 'columns'>,
    visit: Visit,
  ): Promise<{ rows: number; rejected: number }> {
    const { pipeline } = this.deps;
    for (const k of q.keyColumns)
      if (!q.columns.includes(k)) throw new Error(`key column ${k} is not one of the compared columns`);
    const fixed = pipeline.columns;
    if (fixed)
      for (const c of q.keyColumns)
        if (!fixed.includes(c))
          throw new Error(`key column ${c} is not a field of subscription ${this.deps.task.subscriptionId} here`);
    const keyPos = q.keyColumns.map((k) => q.columns.indexOf(k));
    const pick = fixed ? q.columns.map((c) => fixed.indexOf(c)) : undefined;
    let rows = 0;
    let rejected = 0;
    await this.forEachPage((page) => {
      for (let i = 0; i < page.rows.length; i++) {
        if (page.ops[i] === 'd' || page.errors?.[i] !== undefined) continue;
        const row = page.rows[i]!;
        const r = pipeline.process(row);
        if (r.ok === 'skip') continue;
        if (r.ok === false) {
          rejected++;
          continue;
        }
        const cols = fixed ?? r.columns ?? Object.keys(row);
        const idx = pick ?? q.columns.map((c) => cols.indexOf(c));
        const projected = idx.map((j) => (j < 0 ? null : r.values[j]));
        const v = this.verifier.verify(q.columns, projected);
        if (!v.ok) {
          rejected++;
          continue;
        }
        const keyValues = keyPos.map((j) => v.values[j]);
        visit(keyText(keyValues), keyValues, v.values);
        rows++;
      }
    });
    return { rows, rejected };
  }

  /**
   * Reads the binding in full key order, a page at a time; each page is read and handled under one of the
   * agent's read slots (exchange/read-slots.ts), so a scan holds no more memory than a sync step does.
   */
  private async forEachPage(handle: (page: Page) => void): Promise<void> {
    const source = this.deps.openScan();
    try {
      let cursor: Parameters<RecordSource['read']>[0] = null;
      for (;;) {
        const release = await readSlots.acquire(this.closed.signal);
        if (!release) throw new Error('the sync task stopped');
        let page: Page;
        try {
          page = await source.read(cursor, PAGE_ROWS);
          handle(page);
        } finally {
          release();
        }
        cursor = page.cursor;
        if (page.exhausted || page.rows.length === 0) break;
        // Reading is synchronous for SQLite: let publishes and receipts of the running tasks through.
        await new Promise((r) => setImmediate(r));
      }
    } finally {
      await source.close();
    }
  }

  /**
   * Called by the sync loop between its steps: looks up the keys of waiting repairs in the source as it is
   * now and hands the resulting upserts and tombstones to `commit` (which commits them into the stream).
   */
  async commitRepairs(state: TaskState, commit: (state: TaskState, part: RepairRows) => TaskState): Promise<TaskState> {
    if (this.jobs.length === 0) return state;
    this.kick = new AbortController();
    for (const job of this.jobs.splice(0)) {
      try {
        const { parts, answer } = await this.repairRows(job.q);
        for (const p of parts) if (p.rows.length) state = commit(state, p);
        this.deps.log.info(
          { runId: job.q.runId, upserts: answer.upserts, tombstones: answer.tombstones, rejected: answer.rejected },
          'reconciliation repair committed',
        );
        job.done(answer);
      } catch (err) {
        this.deps.log.warn({ runId: job.q.runId, err: (err as Error).message }, 'reconciliation repair failed');
        job.done({ ok: false, error: (err as Error).message });
      }
    }
    return state;
  }

  /**
   * Answers every waiting repair with a refusal (`reason`) instead of committing it: while a flow is spread over
   * several agents (dynamic node allocation) a repair in this task's stream could overtake a newer version of the
   * same key in a standby's stream, so repairs wait until the flow is merged back (the run is asked again).
   */
  refuseRepairs(reason: string): void {
    for (const job of this.jobs.splice(0)) job.done({ ok: false, error: reason });
  }

  private async repairRows(q: RepairQuestion): Promise<{ parts: RepairRows[]; answer: RepairAnswer & { ok: true } }> {
    const { pipeline, source } = this.deps;
    const keys = q.keys.map((k) => rowFromWire(k.slice()));
    const byText = new Map(keys.map((k) => [keyText(k), k]));
    const found = new Map<string, Record<string, unknown>>();
    if (q.keyColumns.length === 1 && source.keyColumns.length === 1) {
      const column = this.sourceName.get(q.keyColumns[0]!) ?? q.keyColumns[0]!;
      for (const [text, k] of byText) {
        const row = await source.lookup({ [column]: k[0] });
        if (row) found.set(text, row);
      }
    } else {
      // No lookup by a composite key: one pass over the source picks the rows. Keys are compared as the
      // pipeline gives them (typed, renamed), like the consumer's, never as the source's raw values: a raw
      // text date would never equal the consumer's typed one, and the row would be wrongly tombstoned.
      await this.forEachPage((page) =>
        page.rows.forEach((row, i) => {
          if (page.ops[i] === 'd') return;
          const r = pipeline.process(row);
          if (r.ok !== true) return;
          const columns = r.columns ?? pipeline.columns ?? [];
          const text = keyText(q.keyColumns.map((c) => r.values[columns.indexOf(c)]));
          if (byText.has(text)) found.set(text, row);
        }),
      );
    }
    const upserts = new Map<string, RepairRows>();
    const tombstones: RepairRows = { columns: q.keyColumns, rows: [], ops: [] };
    let rejected = 0;
    for (const [text, k] of byText) {
      const row = found.get(text);
      const r = row ? pipeline.process(row) : ({ ok: 'skip' } as const);
      if (r.ok === true) {
        const columns = pipeline.columns ?? r.columns ?? Object.keys(row!);
        const sig = columns.join('\u0000');
        const part = upserts.get(sig) ?? { columns, rows: [], ops: [] };
        part.rows.push(r.values);
        part.ops.push('u');
        upserts.set(sig, part);
      } else if (r.ok === 'skip') {
        tombstones.rows.push(k);
        tombstones.ops.push('d');
      } else rejected++; // refused by the pipeline: the sync loop quarantined it; leave the sink alone
    }
    const parts = [...upserts.values(), tombstones];
    const upserted = [...upserts.values()].reduce((n, p) => n + p.rows.length, 0);
    return { parts, answer: { ok: true, upserts: upserted, tombstones: tombstones.rows.length, rejected } };
  }
}
