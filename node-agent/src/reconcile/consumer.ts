// Reconciliation (对账), consumer side: one verification run of a subscription, run by the consumer's
// agent as a task of kind "verify" (central hands it over as a VerifySpec assignment while the run is
// requested or running). It compares its sink with the provider's source without moving the rows:
//   1. bucket digests of both sides (the sink scanned here, the source by the provider at the same time);
//   2. for the buckets that differ only, row lists (key and row hash) of both sides;
//   3. rows classified as missing (source only), extra (sink only) or different (hashes differ);
//   4. with repair, the provider is asked to make exactly those keys equal to the source, through the
//      subscription's own stream (re-sent rows, tombstones).
// The result (counts, sample keys, rate) goes to central as a "reconcile" report; no row values do.
//
// States of a run, reported to central: 'running' → 'done' | 'failed'. A run stopped half-way (agent
// restart, assignment withdrawn) reports nothing: central still holds it as running and hands it over
// again, and the run starts from the beginning (verifying twice, or repairing twice, is harmless).
import type { RecordSink } from '../connectors/types.js';
import type { DataPlane } from '../exchange/data-plane.js';
import type { Logger } from 'pino';
import type { Pipeline, PipelineSpec } from '../pipeline/index.js';
import type { RunnerContext, TaskAssignment, TaskRunner } from '../tasks/supervisor.js';
import { rowFromWire, rowToWire } from '../values/wire.js';
import { BucketDigest, DEFAULT_BUCKETS, RowHasher, bucketOf, keyText } from './digest.js';
import { MAX_LISTED_ROWS } from './provider.js';
import {
  comparisonPipeline,
  maskedKeyColumn,
  type DigestAnswer,
  type RepairAnswer,
  type RowsAnswer,
} from './protocol.js';
import type { VerificationResult } from '../../../common/src/verification-result.js';

export type VerificationState = 'running' | 'done' | 'failed';

/** What a verify task carries in params besides the exchange task's own (fields, filters). */
export interface VerifyParams extends PipelineSpec {
  _verify: { runId: string; repair: boolean };
}

export interface VerifySettings {
  /** How long one question to the provider may take (a digest reads its whole source). Default 15 min. */
  questionTimeoutMs?: number;
  /** Buckets of the first comparison. Default 4096. */
  buckets?: number;
}

/** Sample keys kept per class in the result. */
export const SAMPLE_KEYS = 100;
const PAGE_ROWS = 5_000;
const REPAIR_CHUNK = 2_000;

/** The result of a run as central stores and shows it (common/src/verification-result.ts). */
export type { VerificationResult };

type Entry = { key: unknown[]; h1: number; h2: number };

interface VerifyDeps {
  dataPlane: DataPlane;
  sink: RecordSink;
  settings?: VerifySettings;
}

/** What both sides compare: the buckets, the sink's key columns and the compared columns. */
interface Shape {
  buckets: number;
  keyColumns: string[];
  columns: string[];
}

/** One verification run; its steps are methods (digests, narrowing, repair). */
class VerificationRun {
  readonly log: Logger;
  readonly abort = new AbortController();
  private readonly run: VerifyParams['_verify'];
  private readonly verifier: Pipeline;
  private readonly timeoutMs: number;
  private readonly buckets: number;

  constructor(
    private readonly task: TaskAssignment,
    private readonly ctx: RunnerContext,
    private readonly params: VerifyParams,
    private readonly deps: VerifyDeps & { sink: RecordSink & Required<Pick<RecordSink, 'scan'>> },
  ) {
    this.run = params._verify;
    this.log = ctx.logger.child({ runId: this.run.runId, subscriptionId: task.subscriptionId });
    this.timeoutMs = deps.settings?.questionTimeoutMs ?? 15 * 60_000;
    this.buckets = deps.settings?.buckets ?? DEFAULT_BUCKETS;
    this.verifier = comparisonPipeline(params);
  }

  report(state: VerificationState, extra: { error?: string; result?: VerificationResult } = {}): void {
    this.ctx.report('reconcile', {
      runId: this.run.runId,
      subscriptionId: this.task.subscriptionId,
      state,
      error: extra.error ?? '',
      resultJson: extra.result ? JSON.stringify(extra.result) : '',
    });
  }

  /** One question to the provider; throws with the reason when it does not answer or refuses. */
  private async ask<T extends { ok: boolean }>(q: Record<string, unknown>): Promise<T & { ok: true }> {
    const { task } = this;
    let a: Record<string, unknown>;
    try {
      a = await this.deps.dataPlane.askReconcile(
        task.peerNodeId,
        { ...q, runId: this.run.runId, subscriptionId: task.subscriptionId },
        this.timeoutMs,
      );
    } catch (err) {
      throw new Error(
        `provider node ${task.peerNodeId} did not answer (${String(q['op'])}): ${(err as Error).message}`,
      );
    }
    if (a['ok'] !== true) throw new Error(`provider node ${task.peerNodeId}: ${String(a['error'] ?? 'refused')}`);
    return a as T & { ok: true };
  }

  /** Reads the whole sink; calls visit with each row's key text, key values and compared values. */
  private async scanSink(
    shape: Shape,
    visit: (key: string, keyValues: unknown[], values: unknown[]) => void,
  ): Promise<number> {
    const { columns, keyColumns } = shape;
    const keyPos = keyColumns.map((k) => columns.indexOf(k));
    let after: unknown[] | null = null;
    let rows = 0;
    for (;;) {
      if (this.abort.signal.aborted) throw new Error('stopped');
      const page = await this.deps.sink.scan(after, PAGE_ROWS);
      const idx = columns.map((c) => page.columns.indexOf(c));
      for (const row of page.rows) {
        const projected = idx.map((j) => (j < 0 ? null : row[j]));
        const v = this.verifier.verify(columns, projected);
        const values = v.ok ? v.values : projected;
        const keyValues = keyPos.map((j) => values[j]);
        visit(keyText(keyValues), keyValues, values);
        rows++;
      }
      if (page.exhausted || !page.lastKey) break;
      after = page.lastKey;
      await new Promise((r) => setImmediate(r));
    }
    return rows;
  }

  /** What is compared: the sink's key and the subscription's fields; refused when rows cannot be matched. */
  private async shape(): Promise<Shape> {
    const first = await this.deps.sink.scan(null, 1);
    const keyColumns = first.keyColumns;
    const columns = this.verifier.columns ?? first.columns;
    for (const k of keyColumns)
      if (!columns.includes(k))
        throw new Error(`sink key column ${k} is not one of the subscription's fields (${columns.join(', ')})`);
    const masked = maskedKeyColumn(this.params, keyColumns);
    if (masked) throw new Error(`key field ${masked} is masked: rows cannot be matched by key`);
    return { buckets: this.buckets, keyColumns, columns };
  }

  async execute(): Promise<VerificationResult> {
    const started = Date.now();
    const shape = await this.shape();
    // The provider reads its source while this agent reads the sink.
    const sourceDigest = this.ask<DigestAnswer>({ op: 'digest', ...shape });
    sourceDigest.catch(() => {}); // awaited below; a failure must not go unhandled while the sink is read
    const hasher = new RowHasher(shape.columns);
    const mine = new BucketDigest(shape.buckets);
    const rowsSink = await this.scanSink(shape, (key, _k, values) =>
      mine.add(bucketOf(key, shape.buckets), hasher.hashRow(key, values)),
    );
    const src = await sourceDigest;
    const theirs = BucketDigest.decode(shape.buckets, src.digest);
    const differing = mine.differing(theirs);
    const result: VerificationResult = {
      ...{ rowsSource: src.rows, rowsSink, rowsCompared: Math.max(src.rows, rowsSink), sourceRejected: src.rejected },
      ...{ buckets: shape.buckets, bucketsDiffering: differing.length, missing: 0, extra: 0, different: 0 },
      ...{ samples: { missing: [], extra: [], different: [] }, durationMs: 0, rowsPerSecond: 0 },
    };
    const toRepair: unknown[][] = [];
    if (differing.length) {
      const listed = mine.countIn(differing) + theirs.countIn(differing);
      if (listed > MAX_LISTED_ROWS)
        throw new Error(
          `${listed} rows lie in the ${differing.length} differing buckets (at most ${MAX_LISTED_ROWS} are compared row by row): the sink is far from the source; re-sync the subscription`,
        );
      await this.narrow(shape, differing, hasher, result, toRepair);
    }
    if (this.run.repair) result.repair = await this.repair(shape.keyColumns, toRepair);
    result.durationMs = Date.now() - started;
    result.rowsPerSecond = Math.round(result.rowsCompared / Math.max(0.001, result.durationMs / 1000));
    return result;
  }

  /** The rows of the differing buckets only, from both sides, classified; keys to repair go to `toRepair`. */
  private async narrow(
    shape: Shape,
    differing: number[],
    hasher: RowHasher,
    result: VerificationResult,
    toRepair: unknown[][],
  ): Promise<void> {
    const select = new Set(differing);
    const sinkRows = new Map<string, Entry>();
    await this.scanSink(shape, (key, keyValues, values) => {
      if (!select.has(bucketOf(key, shape.buckets))) return;
      const [h1, h2] = hasher.hashRow(key, values);
      sinkRows.set(key, { key: keyValues, h1, h2 });
    });
    const sourceRows = new Map<string, Entry>();
    for (let offset: number | undefined = 0; offset !== undefined;) {
      const page: RowsAnswer & { ok: true } = await this.ask<RowsAnswer>({
        op: 'rows',
        ...shape,
        select: differing,
        offset,
      });
      for (const [k, h1, h2] of page.entries) {
        const key = rowFromWire(k.slice());
        sourceRows.set(keyText(key), { key, h1, h2 });
      }
      offset = page.next;
    }
    const asObject = (key: unknown[]): Record<string, unknown> =>
      Object.fromEntries(shape.keyColumns.map((c, i) => [c, rowToWire(key)[i]]));
    const note = (cls: 'missing' | 'extra' | 'different', key: unknown[]): void => {
      result[cls]++;
      if (result.samples[cls].length < SAMPLE_KEYS) result.samples[cls].push(asObject(key));
      toRepair.push(key);
    };
    for (const [text, s] of sourceRows) {
      const d = sinkRows.get(text);
      if (!d) note('missing', s.key);
      else if (d.h1 !== s.h1 || d.h2 !== s.h2) note('different', s.key);
    }
    for (const [text, d] of sinkRows) if (!sourceRows.has(text)) note('extra', d.key);
    for (const cls of ['missing', 'extra', 'different'] as const) result.samples[cls].sort(compareKeys);
  }

  /** Asks the provider to make these keys equal to the source, a chunk at a time. */
  private async repair(
    keyColumns: string[],
    toRepair: unknown[][],
  ): Promise<NonNullable<VerificationResult['repair']>> {
    const repair = { upserts: 0, tombstones: 0, rejected: 0 };
    for (let i = 0; i < toRepair.length; i += REPAIR_CHUNK) {
      const a = await this.ask<RepairAnswer>({
        op: 'repair',
        keyColumns,
        keys: toRepair.slice(i, i + REPAIR_CHUNK).map((k) => rowToWire(k)),
      });
      repair.upserts += a.upserts;
      repair.tombstones += a.tombstones;
      repair.rejected += a.rejected;
    }
    return repair;
  }

  async perform(): Promise<void> {
    this.report('running');
    this.log.info({ repair: this.run.repair }, 'verification started');
    try {
      const result = await this.execute();
      this.log.info(
        {
          missing: result.missing,
          extra: result.extra,
          different: result.different,
          rows: result.rowsCompared,
          ms: result.durationMs,
          repair: result.repair,
        },
        'verification done',
      );
      this.report('done', { result });
    } catch (err) {
      if (this.abort.signal.aborted) return; // stopped: central hands the run over again
      this.log.warn({ err: (err as Error).message }, 'verification failed');
      this.report('failed', { error: (err as Error).message });
    }
  }
}

export function createVerifyRunner(task: TaskAssignment, ctx: RunnerContext, deps: VerifyDeps): TaskRunner {
  const params = task.params as unknown as VerifyParams;
  if (!params._verify?.runId) throw new Error('verify task has no run id (params._verify.runId)');
  if (!task.peerNodeId) throw new Error('verify task has no provider node (peerNodeId)');
  const { sink } = deps;
  if (!sink.scan)
    throw new Error(`binding ${task.binding}: this kind of sink cannot be verified (it cannot list its rows)`);
  const run = new VerificationRun(task, ctx, params, {
    ...deps,
    sink: sink as RecordSink & Required<Pick<RecordSink, 'scan'>>,
  });
  const running = run.perform();
  return {
    async stop(graceMs: number) {
      run.abort.abort();
      await Promise.race([running, new Promise((r) => setTimeout(r, graceMs).unref())]);
      await sink.close();
    },
  };
}

/** Sample keys in a stable order (by their JSON text; numbers by value). */
function compareKeys(a: Record<string, unknown>, b: Record<string, unknown>): number {
  const av = Object.values(a);
  const bv = Object.values(b);
  for (let i = 0; i < av.length; i++) {
    const x = av[i];
    const y = bv[i];
    if (typeof x === 'number' && typeof y === 'number') {
      if (x !== y) return x - y;
      continue;
    }
    const sx = JSON.stringify(x);
    const sy = JSON.stringify(y);
    if (sx !== sy) return sx < sy ? -1 : 1;
  }
  return 0;
}
