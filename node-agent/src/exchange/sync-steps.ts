// The steps of a sync task that need no state of their own: turning a page of source rows into runs of
// processed rows (and quarantined records), holding rows whose cursor lies in the future, and answering
// online queries with the subscription's fields, filters and masking. Pure apart from the source lookup.
import type { RecordSource } from '../connectors/types.js';
import type { Pipeline, PipelineSpec } from '../pipeline/index.js';
import type { NewQuarantine } from '../spool/data-spool.js';
import type { TaskAssignment } from '../tasks/supervisor.js';
import type { QueryReply, QueryRequest } from '../transport/envelope.js';
import { fromDriver, parseDateTime, Temporal, temporalEpochMs, type Value } from '../values/value.js';
import { recordToWire } from '../values/wire.js';
import type { RecordRun } from './batch.js';
import type { RunnerKit } from './runner-kit.js';

/** A page as a source reads it. */
export type Page = Awaited<ReturnType<RecordSource['read']>>;

/**
 * Runs a page through the pipeline: consecutive rows with the same columns form one run (a batch never
 * mixes column sets, so every value is matched to its column by name at the sink whatever order or set a
 * source row has); rows the source could not read or the pipeline refuses go to `quarantine`.
 */
export function processPage(
  pipeline: Pipeline,
  page: Page,
  origin: string,
  quarantine: NewQuarantine[],
): { runs: RecordRun[]; kept: number } {
  const runs: (RecordRun & { rows: Value[][] })[] = [];
  let kept = 0;
  for (let i = 0; i < page.rows.length; i++) {
    const row = page.rows[i]!;
    const error = page.errors?.[i];
    if (error !== undefined) {
      quarantine.push({ origin, rowIndex: i, reason: error, record: row });
      continue;
    }
    let r: ReturnType<Pipeline['process']>;
    try {
      r = pipeline.process(row);
    } catch (err) {
      // Whatever one row does to the pipeline, it is that row's problem: quarantined, not a stuck task.
      r = { ok: false, reason: `processing failed: ${(err as Error).message}` };
    }
    if (r.ok === 'skip') continue;
    if (r.ok === false) {
      quarantine.push({ origin, rowIndex: i, reason: r.reason, field: r.field, record: row });
      continue;
    }
    const columns = r.columns ?? pipeline.columns ?? [];
    let run = runs.at(-1);
    if (!run || !sameColumns(run.columns, columns)) runs.push((run = { columns, rows: [], ops: [] }));
    run.rows.push(r.values);
    run.ops.push(page.ops[i] ?? 'u');
    kept++;
  }
  return { runs, kept };
}

function sameColumns(a: string[], b: string[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Index of the first row whose cursor value is a date-time later than `limitMs` (epoch ms; a wall-clock
 * timestamp without zone is compared as the agent's local time), or undefined. Cursor values that are not
 * date-times (sequences, numbers) are never held.
 */
export function futureRow(
  rows: Record<string, unknown>[],
  cursorColumn: string | undefined,
  limitMs: number,
): number | undefined {
  if (!cursorColumn || rows.length === 0) return undefined;
  const localLimit = limitMs - new Date(limitMs).getTimezoneOffset() * 60_000;
  const after = (v: unknown): boolean => {
    const t =
      v instanceof Temporal
        ? v
        : typeof v === 'string' && /^\d{4}-\d{2}-\d{2}/.test(v)
          ? parseDateTime(v).ok
            ? (parseDateTime(v) as { value: Temporal }).value
            : undefined
          : undefined;
    if (!t || t.kind === 'time') return false;
    const ms = temporalEpochMs(t);
    if (ms === undefined) return t.text === 'infinity';
    return ms > (t.kind === 'timestamptz' ? limitMs : localLimit);
  };
  // Rows come in cursor order: once the last is not in the future, none is.
  if (!after(rows.at(-1)![cursorColumn])) return undefined;
  for (let i = 0; i < rows.length; i++) if (after(rows[i]![cursorColumn])) return i;
  return undefined;
}

const lastFutureReport = new WeakMap<RunnerKit, number>();

/** Reports a held row (CURSOR_IN_FUTURE) at most once a minute per task; always notes it as the run's last error. */
export function reportFuture(
  kit: RunnerKit,
  source: RecordSource,
  row: Record<string, unknown>,
  cursorSkewMs: number,
): void {
  kit.counters.lastError = `a row's cursor value lies in the future; held until then`;
  if (Date.now() - (lastFutureReport.get(kit) ?? 0) < 60_000) return;
  lastFutureReport.set(kit, Date.now());
  const key = Object.fromEntries(source.keyColumns.map((k) => [k, String(fromDriver(row[k]))]));
  const value = String(fromDriver(row[source.cursorColumn!]));
  const message = `row ${JSON.stringify(key)} has cursor ${source.cursorColumn} = ${value}, later than now plus ${Math.round(cursorSkewMs / 1000)} s: it and the rows after it are held until then (check the source's clock or the value)`;
  kit.log.warn({ key, cursor: value }, 'cursor value in the future: row held');
  kit.event('warn', 'CURSOR_IN_FUTURE', message);
}

/** Answers online queries of a sync task's subscription: one keyed lookup, through the task's pipeline. */
export function queryAnswerer(
  task: TaskAssignment,
  params: PipelineSpec,
  pipeline: Pipeline,
  source: RecordSource,
): (q: QueryRequest) => Promise<QueryReply> {
  const sourceName = new Map((params.fields ?? []).map((f) => [f.as ?? f.name, f.name]));
  return async (q) => {
    if (q.requester !== task.peerNodeId)
      return { ok: false, error: `node ${q.requester} does not hold subscription ${task.subscriptionId}` };
    const entries = Object.entries(q.key ?? {});
    if (entries.length !== 1) return { ok: false, error: 'a query names exactly one key field' };
    const [field, value] = entries[0]!;
    const column = sourceName.get(field) ?? field;
    let row: Record<string, unknown> | undefined;
    try {
      row = await source.lookup({ [column]: value });
    } catch (err) {
      return { ok: false, error: (err as Error).message };
    }
    if (!row) return { ok: true, found: false };
    const r = pipeline.process(row);
    if (r.ok === 'skip') return { ok: true, found: false };
    if (r.ok === false) return { ok: false, error: `record fails validation: ${r.reason}` };
    const columns = pipeline.columns ?? Object.keys(row);
    const names = r.columns ?? columns;
    return { ok: true, found: true, record: recordToWire(Object.fromEntries(names.map((c, i) => [c, r.values[i]]))) };
  };
}
