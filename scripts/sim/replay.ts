// The compressed-time replay through real agents (npm run simulate -- --replay; issue 11, Build 8). One
// simulated pair's records are written into a real provider's SQLite source at compressed time and delivered by
// real agents through nats-server to a real consumer's sink; delivery latency is measured per record (its insert
// instant, carried in the record, to the moment the sink poll first sees it). The same traffic runs twice back
// to back on the same processes: (a) no policies, (b) with the brain's policies. Translation of time:
//   - compression C = 3,600 s / hourSeconds: a simulated 5-min bucket lasts 300/C s; its records are scaled so
//     the span's largest bucket is peakRate records/s, inserted evenly over the compressed bucket;
//   - the replayed span is simulated hours around a planted surge that central's detector finds; its peak hour is
//     the simulated hour of the span with the most records;
//   - static: central's ClusterService (POST /api/v1/clusters/run, over the imported history) writes the pair's
//     static policy in local time of day; it is withdrawn and re-created as a static policy with the same knobs
//     whose validity [validFromMs, validUntilMs) covers the compressed instants of the span's buckets where the
//     brain's windows are in force (common/src/policy-knobs.ts knobsInForce at each simulated bucket);
//   - dynamic: the surge domain/surge.ts detects over the generated series (streaming, no look-ahead) becomes a
//     dynamic policy created through the API at the compressed instant of its detection (end of its detection
//     bucket) with SurgeService's knobs (transfer open, batch x peak/expected within 2..4, 8 read slots, poll every SURGE_POLL_INTERVAL_MS), valid
//     until the compressed end of the surge.
import Database from 'better-sqlite3';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { knobsInForce } from '../../common/src/policy-knobs.js';
import type { PolicyDefinition, PolicyKnobs } from '../../common/src/policy.js';
import { detectSurges, type Surge } from '../../central/src/domain/surge.js';
import { SURGE_POLL_INTERVAL_MS } from '../../central/src/services/brain-surges.js';
import { csvOf, enrollNodes, must, type Api } from './central-run.js';
import { CHINA_CALENDAR_2025_2026, generateProvince, type SimPair } from './generate.js';
import { startWorld, type ReplayWorld } from './replay-world.js';

export interface ReplayOptions {
  json: boolean;
  seed: number;
  dir?: string;
  /** Wall seconds a simulated hour lasts (60: one simulated day in 24 min). */
  hourSeconds: number;
  /** Records per second of the span's largest bucket, after compression. */
  peakRate: number;
  /**
   * Diagnosis, not the brain's: sets pollIntervalMs of both policies' knobs instead of the brain's
   * (PEAK_POLL_INTERVAL_MS, SURGE_POLL_INTERVAL_MS); absent: the brain's knobs as they are.
   */
  pollKnobMs?: number;
  /** Rounds of (a) then (b); figures are the medians over rounds (default 1). */
  rounds?: number;
  /** Whether progress and the result are printed (default true; the bench reads the returned figures). */
  print?: boolean;
}

const DAY_MS = 86_400_000;
const BUCKET_MS = 300_000;
const BUCKETS_PER_HOUR = 12;

interface Plan {
  pair: SimPair;
  surge: Surge;
  /** Index of the span's first bucket in the pair's series, and its records per compressed bucket. */
  first: number;
  counts: number[];
  /** Index (in the span) of the first bucket of the peak hour. */
  peakFrom: number;
  compressedBucketMs: number;
}

/** A 35-day province ending now; the replayed pair is the first office-hours pair with a planted surge found. */
function planOf(o: ReplayOptions): { province: ReturnType<typeof generateProvince>; plan: Plan } {
  const endMs = Math.floor(Date.now() / BUCKET_MS) * BUCKET_MS;
  const startMs = endMs - 35 * DAY_MS;
  const province = generateProvince({
    pairs: 30,
    days: 35,
    startMs,
    seed: o.seed,
    calendar: CHINA_CALENDAR_2025_2026,
    surgesFromMs: startMs + 14 * DAY_MS,
  });
  for (const pair of province.pairs) {
    if (pair.cls !== 'office-hours') continue;
    const found = detectSurges(pair.series, { calendar: CHINA_CALENDAR_2025_2026 });
    const surge = found.find(
      (s) => s.endMs !== null && pair.surges.some((p) => startMs + p.startIdx * BUCKET_MS === s.startMs),
    );
    if (surge === undefined) continue;
    const at = (surge.startMs - startMs) / BUCKET_MS;
    const first = Math.max(0, at - BUCKETS_PER_HOUR);
    const span = pair.series.values.slice(first, Math.min(at + 2 * BUCKETS_PER_HOUR, pair.series.values.length));
    const compressedBucketMs = (o.hourSeconds * 1000) / BUCKETS_PER_HOUR;
    const scale = (o.peakRate * compressedBucketMs) / 1000 / Math.max(1, ...span);
    const counts = span.map((v) => Math.round(v * scale));
    let peakFrom = 0;
    let best = -1;
    for (let i = 0; i + BUCKETS_PER_HOUR <= counts.length; i++) {
      const sum = counts.slice(i, i + BUCKETS_PER_HOUR).reduce((a, b) => a + b, 0);
      if (sum > best) [best, peakFrom] = [sum, i];
    }
    return { province, plan: { pair, surge, first, counts, peakFrom, compressedBucketMs } };
  }
  throw new Error('no office-hours pair with a detected planted surge: try another --seed');
}

/** Imports the province's history (the replayed pair under the real agents' nodes). */
async function importHistory(
  api: Api,
  grpcPort: number,
  province: ReturnType<typeof generateProvince>,
  plan: Plan,
): Promise<void> {
  const others = province.pairs.filter((p) => p !== plan.pair);
  const ids = await enrollNodes(api, grpcPort, [...new Set(others.flatMap((p) => [p.fromNode, p.toNode]))]);
  for (const p of others)
    await must(
      api('POST', '/traffic/import', { from: ids.get(p.fromNode), to: ids.get(p.toNode), csv: csvOf(p.series, 200) }),
      'import',
    );
}

/** The replayed pair's history under the real agents' nodes (so the clustering writes its static policy). */
async function importPair(w: ReplayWorld, plan: Plan): Promise<void> {
  const csv = csvOf(plan.pair.series, 200);
  await must(w.api('POST', '/traffic/import', { from: w.providerId, to: w.consumerId, csv }), 'import');
}

interface RunResult {
  peakP99Ms: number;
  peakP50Ms: number;
  spanP99Ms: number;
  records: number;
}

const quantile = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] ?? NaN;
};

/**
 * Writes the span's records at compressed time (keys `<tag>-<bucket>-<n>`), polls the sink every 20 ms, and
 * returns the latencies; `at` callbacks run at their instants (ms since epoch). The first bucket starts at t0.
 */
async function runOnce(
  w: ReplayWorld,
  plan: Plan,
  tag: string,
  t0: number,
  at: { ms: number; run: () => Promise<void> }[],
): Promise<RunResult> {
  const src = new Database(w.sourcePath);
  const ins = src.prepare('INSERT INTO rec (k, inserted_at, payload) VALUES (?, ?, ?)');
  const write = src.transaction((keys: string[], now: number) => {
    for (const k of keys) ins.run(k, now, 'x'.repeat(200));
  });
  const insertedBucket = new Map<string, number>();
  const latency = new Map<string, number>();
  const total = plan.counts.reduce((a, b) => a + b, 0);
  let sink: Database.Database | undefined;
  let lastRowid = 0;
  const poll = (): void => {
    try {
      sink ??= new Database(w.sinkPath, { readonly: true, fileMustExist: true });
      const rows = sink
        .prepare('SELECT rowid AS r, k, inserted_at AS t FROM rec WHERE rowid > ? ORDER BY rowid')
        .all(lastRowid) as { r: number; k: string; t: number }[];
      const now = Date.now();
      for (const row of rows) {
        lastRowid = row.r;
        if (row.k.startsWith(`${tag}-`) && !latency.has(row.k)) latency.set(row.k, now - row.t);
      }
    } catch {
      /* the sink table is created with the first batch */
    }
  };
  const pending = [...at].sort((a, b) => a.ms - b.ms);
  const due0 = async (): Promise<void> => {
    while (pending[0] && Date.now() >= pending[0].ms) await pending.shift()!.run();
  };
  const chunkMs = 100;
  const chunks = Math.max(1, Math.round(plan.compressedBucketMs / chunkMs));
  for (let b = 0; b < plan.counts.length; b++)
    for (let c = 0; c < chunks; c++) {
      const due = t0 + b * plan.compressedBucketMs + c * chunkMs;
      while (Date.now() < due) {
        poll();
        await due0();
        await new Promise((r) => setTimeout(r, Math.min(20, Math.max(1, due - Date.now()))));
      }
      const n = plan.counts[b]!;
      const from = Math.floor((n * c) / chunks);
      const keys = Array.from(
        { length: Math.floor((n * (c + 1)) / chunks) - from },
        (_, i) => `${tag}-${b}-${from + i}`,
      );
      for (const k of keys) insertedBucket.set(k, b);
      write(keys, Date.now());
    }
  const deadline = Date.now() + 10 * 60_000;
  while (latency.size < total && Date.now() < deadline) {
    poll();
    await due0();
    await new Promise((r) => setTimeout(r, 20));
  }
  src.close();
  sink?.close();
  if (latency.size < total) throw new Error(`run ${tag}: ${latency.size} of ${total} records arrived within 10 min`);
  const peak: number[] = [];
  for (const [k, ms] of latency) {
    const b = insertedBucket.get(k)!;
    if (b >= plan.peakFrom && b < plan.peakFrom + BUCKETS_PER_HOUR) peak.push(ms);
  }
  return {
    peakP99Ms: quantile(peak, 0.99),
    peakP50Ms: quantile(peak, 0.5),
    spanP99Ms: quantile([...latency.values()], 0.99),
    records: total,
  } satisfies RunResult;
}

interface PolicyView extends PolicyDefinition {
  generatedBy: string;
  state: string;
  delivery: { outcome: string }[];
}

/**
 * The brain's static policy of the pair (POST /clusters/run), withdrawn and re-created over the compressed
 * instants of the span where its windows are in force; undefined when the clustering wrote none.
 */
async function compressedStatic(
  w: ReplayWorld,
  plan: Plan,
  t0: number,
  extra: number | undefined,
): Promise<PolicyView | undefined> {
  await must(w.api('POST', '/clusters/run', {}), 'clusters run');
  const all = await must(w.api<PolicyView[]>('GET', '/policies'), 'policies');
  const brain = all.find((p) => p.generatedBy === 'brain' && p.taskIds.includes(w.syncTaskId));
  if (brain === undefined) return undefined;
  await must(w.api('DELETE', `/policies/${brain.id}`), 'withdraw');
  const def: PolicyDefinition = { ...brain, validFromMs: 0, validUntilMs: 0 };
  const spanStart = plan.pair.series.startMs + plan.first * BUCKET_MS;
  let from = -1;
  let until = -1;
  let knobs: PolicyKnobs = {};
  for (let i = 0; i < plan.counts.length; i++) {
    const k = knobsInForce([def], w.syncTaskId, spanStart + i * BUCKET_MS + BUCKET_MS / 2);
    if (k.sources.length === 0 || Object.keys(k.knobs).length === 0) continue;
    if (from < 0) from = i;
    until = i + 1;
    knobs = k.knobs;
  }
  if (from < 0) return undefined;
  return must(
    w.api<PolicyView>('POST', '/policies', {
      kind: 'static',
      taskIds: [w.syncTaskId],
      validFromMs: Math.round(t0 + from * plan.compressedBucketMs),
      validUntilMs: Math.round(t0 + until * plan.compressedBucketMs),
      windows: [],
      outside: { ...knobs, ...(extra !== undefined && { pollIntervalMs: extra }) },
      reason: `compressed replay of ${brain.id}: ${brain.reason}`,
    }),
    'static policy',
  );
}

/** The detector's surge as a dynamic policy at the compressed instant of its detection (SurgeService's knobs). */
function dynamicAt(
  w: ReplayWorld,
  plan: Plan,
  t0: number,
  made: PolicyView[],
  extra: number | undefined,
): { ms: number; run: () => Promise<void> } {
  const s = plan.surge;
  const spanStart = plan.pair.series.startMs + plan.first * BUCKET_MS;
  const at = (ms: number): number => Math.round(t0 + ((ms - spanStart) / BUCKET_MS) * plan.compressedBucketMs);
  const factor = s.expected > 0 ? Math.min(4, Math.max(2, s.peak / s.expected)) : 4;
  const detected = at(s.detectedMs + BUCKET_MS);
  return {
    ms: detected,
    run: async () => {
      made.push(
        await must(
          w.api<PolicyView>('POST', '/policies', {
            kind: 'dynamic',
            taskIds: [w.syncTaskId],
            validFromMs: detected,
            validUntilMs: Math.max(detected + 1000, at(s.endMs!)),
            windows: [],
            outside: {
              transfer: 'open',
              batchRecords: Math.round(1000 * factor),
              concurrency: 8,
              pollIntervalMs: extra ?? SURGE_POLL_INTERVAL_MS,
            },
            reason: `compressed replay of a detected surge: ${Math.round(s.peak)} records per bucket against ${Math.round(s.expected)} expected`,
          }),
          'dynamic policy',
        ),
      );
    },
  };
}

/** npm run simulate -- --replay: runs (a) without and (b) with policies, prints peak-hour p99 and the gain. */
export async function replayMode(o: ReplayOptions): Promise<Record<string, unknown>> {
  const dir = o.dir ?? mkdtempSync(join(tmpdir(), 'xchg-replay-'));
  const print = o.print ?? true;
  const say = (s: string): void => void (print && (o.json ? process.stderr : process.stdout).write(s + '\n'));
  const { province, plan } = planOf(o);
  say(
    `replay: pair ${plan.pair.fromNode}->${plan.pair.toNode} (${plan.pair.cls}), ${plan.counts.length} buckets of ${plan.compressedBucketMs} ms, ${plan.counts.reduce((a, b) => a + b, 0)} records a run`,
  );
  const w = await startWorld(dir, (api, grpcPort) => importHistory(api, grpcPort, province, plan));
  try {
    await importPair(w, plan);
    const as: RunResult[] = [];
    const bs: RunResult[] = [];
    let t0 = 0;
    let statics: PolicyView | undefined;
    let made: PolicyView[] = [];
    // Rounds alternate (a) and (b) on the same processes; each (b)'s policies end with its span.
    for (let r = 0; r < (o.rounds ?? 1); r++) {
      say(`replay: round ${r + 1}, run (a), no policies`);
      const a1 = await runOnce(w, plan, `a${r}`, Date.now() + 2000, []);
      as.push(a1);
      say(`replay: (a) peak-hour p99 ${a1.peakP99Ms} ms, p50 ${a1.peakP50Ms} ms, span p99 ${a1.spanP99Ms} ms`);
      t0 = Date.now() + 5000;
      statics = await compressedStatic(w, plan, t0, o.pollKnobMs);
      made = [];
      say(
        `replay: run (b), static ${statics ? JSON.stringify(statics.outside) : 'none'} and the surge's dynamic policy`,
      );
      const b1 = await runOnce(w, plan, `b${r}`, t0, [dynamicAt(w, plan, t0, made, o.pollKnobMs)]);
      bs.push(b1);
      say(`replay: (b) peak-hour p99 ${b1.peakP99Ms} ms, p50 ${b1.peakP50Ms} ms, span p99 ${b1.spanP99Ms} ms`);
    }
    const mid = (xs: RunResult[], f: (x: RunResult) => number): number => quantile(xs.map(f), 0.5);
    const a = {
      peakP99Ms: mid(as, (x) => x.peakP99Ms),
      peakP50Ms: mid(as, (x) => x.peakP50Ms),
      spanP99Ms: mid(as, (x) => x.spanP99Ms),
      records: as[0]!.records,
    };
    const b = {
      peakP99Ms: mid(bs, (x) => x.peakP99Ms),
      peakP50Ms: mid(bs, (x) => x.peakP50Ms),
      spanP99Ms: mid(bs, (x) => x.spanP99Ms),
      records: bs[0]!.records,
    };
    const gain = Math.round((1000 * (a.peakP99Ms - b.peakP99Ms)) / a.peakP99Ms) / 10;
    // The translation, stated: simulated local time of day -> compressed seconds from run (b)'s start.
    const simAt = (ms: number): string => new Date(ms + 8 * 3_600_000).toISOString().slice(0, 16).replace('T', ' ');
    const secs = (ms: number): string => ((ms - t0) / 1000).toFixed(1);
    const spanStart = plan.pair.series.startMs + plan.first * BUCKET_MS;
    say(
      `replay: time: simulated ${simAt(spanStart)}..${simAt(spanStart + plan.counts.length * BUCKET_MS)} (UTC+8) ` +
        `= 0..${secs(t0 + plan.counts.length * plan.compressedBucketMs)} s; peak hour from ${simAt(spanStart + plan.peakFrom * BUCKET_MS)}; ` +
        (statics
          ? `static (brain's windows in force) valid ${secs(statics.validFromMs)}..${secs(statics.validUntilMs)} s; `
          : 'no static policy; ') +
        `surge ${simAt(plan.surge.startMs)} detected in the bucket of ${simAt(plan.surge.detectedMs)} -> dynamic policy at ` +
        (made[0] ? `${secs(made[0].validFromMs)}..${secs(made[0].validUntilMs)} s` : 'none'),
    );
    const out = {
      dir,
      records: a.records,
      hourSeconds: o.hourSeconds,
      peakRate: o.peakRate,
      pollKnobMs: o.pollKnobMs ?? null,
      peak_p99_ms_without: a.peakP99Ms,
      peak_p99_ms_with: b.peakP99Ms,
      peak_p50_ms_without: a.peakP50Ms,
      peak_p50_ms_with: b.peakP50Ms,
      span_p99_ms_without: a.spanP99Ms,
      span_p99_ms_with: b.spanP99Ms,
      rounds: as.length,
      peak_p99_ms_without_runs: as.map((x) => x.peakP99Ms),
      peak_p99_ms_with_runs: bs.map((x) => x.peakP99Ms),
      policy_p99_gain_pct: gain,
      staticKnobs: statics?.outside ?? null,
      dynamicKnobs: made[0]?.outside ?? null,
    };
    if (print && o.json) process.stdout.write(JSON.stringify(out) + '\n');
    else
      say(
        `replay: peak-hour p99 ${a.peakP99Ms} ms without policies, ${b.peakP99Ms} ms with (gain ${gain} %); ` +
          `p50 ${a.peakP50Ms} / ${b.peakP50Ms} ms; whole span p99 ${a.spanP99Ms} / ${b.spanP99Ms} ms`,
      );
    return out;
  } finally {
    await w.stop();
  }
}
