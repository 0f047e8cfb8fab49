// History files of traffic (流量历史导入导出) for one node pair: import (a province moving from its old
// platform) and export, in the format domain/traffic-csv.ts reads and writes.
//
// Import is all or nothing: every bad row is reported with its line number (the first MAX_LISTED_ERRORS listed)
// and nothing is written; a good file is written in one transaction. Re-importing a range replaces the
// imported buckets (and hours) of that pair and resource in the range; live buckets (counted by agents) are
// never overwritten: an imported bucket that falls on one is left out (counted as keptLive). Within the base
// retention the file is written as base buckets and their hours rolled up; older parts as hours only.
import type { TrafficExportQuery, TrafficImportBody, TrafficImportSummary } from '../api/traffic.js';
import { bucketsOfRows, historyCsv, parseHistoryCsv } from '../domain/traffic-csv.js';
import { HOUR_MS, mergeCounts, type TrafficCounts } from '../domain/traffic.js';
import { invalid } from '../errors.js';
import type { TrafficRow } from '../store/index.js';
import type { TrafficService } from './traffic.js';

const floorTo = (t: number, step: number): number => Math.floor(t / step) * step;

/** Imports a history file for a pair (TrafficImportBody); calls the service's onImported after the commit. */
export function importHistory(svc: TrafficService, body: TrafficImportBody): TrafficImportSummary {
  const pair = svc.pairOf(body);
  if (pair.resource && !svc.store.catalog.get(pair.resource))
    throw invalid('resource', `no resource ${JSON.stringify(pair.resource)} in the catalog`);
  const bucketMs = svc.opts.bucketMs;
  const parsed = parseHistoryCsv(body.csv, svc.zone, bucketMs);
  if (!parsed.ok) {
    const more = parsed.errorCount - parsed.errors.length;
    const lines = parsed.errors.map((e) => `line ${e.line}: ${e.message}`);
    if (more > 0) lines.push(`… and ${more} more`);
    throw invalid('csv', `${parsed.errorCount} bad row(s); nothing imported:\n${lines.join('\n')}`);
  }
  const buckets = [...bucketsOfRows(parsed.rows, parsed.intervalMs, bucketMs)].sort((a, b) => a[0] - b[0]);
  const sinceMs = buckets[0]![0];
  const untilMs = buckets.at(-1)![0] + bucketMs;
  const keptFrom = svc.baseKeptFrom(svc.clock());
  const recent: TrafficRow[] = [];
  const hours = new Map<number, TrafficCounts>();
  for (const [startMs, c] of buckets) {
    if (startMs >= keptFrom) recent.push({ ...c, startMs, origin: 'import' });
    else {
      const h = floorTo(startMs, HOUR_MS);
      const had = hours.get(h);
      hours.set(h, had ? mergeCounts(had, c) : c);
    }
  }
  const t = svc.store.traffic;
  const written = svc.store.tx(() => {
    let replaced = 0;
    let bucketsWritten = 0;
    let hoursWritten = 0;
    if (recent.length > 0) {
      const from = Math.max(sinceMs, keptFrom);
      replaced += t.deleteImported('traffic_buckets', pair, from, untilMs);
      bucketsWritten = t.put('traffic_buckets', pair, recent, false);
      t.rollupHours(pair, floorTo(from, HOUR_MS), Math.ceil(untilMs / HOUR_MS) * HOUR_MS);
    }
    if (hours.size > 0) {
      replaced += t.deleteImported('traffic_hourly', pair, floorTo(sinceMs, HOUR_MS), keptFrom);
      const rows = [...hours].map(([startMs, c]): TrafficRow => ({ ...c, startMs, origin: 'import' }));
      hoursWritten = t.put('traffic_hourly', pair, rows, false);
    }
    return { replaced, bucketsWritten, hoursWritten };
  });
  svc.onImported?.({ pair, sinceMs, untilMs });
  return {
    fromNode: pair.fromNode,
    toNode: pair.toNode,
    resource: pair.resource,
    rowsRead: parsed.rows.length,
    intervalMs: parsed.intervalMs,
    bucketMs,
    ...written,
    keptLive: recent.length - written.bucketsWritten + (hours.size - written.hoursWritten),
    records: parsed.rows.reduce((n, r) => n + r.records, 0),
    sinceMs,
    untilMs,
    since: svc.zone.iso(sinceMs),
    until: svc.zone.iso(untilMs),
  };
}

/**
 * The history of a pair as a file: every stored bucket with traffic in the range (default: everything kept,
 * at the base resolution while it is kept, else hours), resources summed when none is named.
 */
export function exportHistory(svc: TrafficService, q: TrafficExportQuery): string {
  const pair = svc.pairOf(q);
  const now = svc.clock();
  const keptFrom = svc.baseKeptFrom(now);
  const untilMs = q.until !== undefined ? svc.instant(q.until, 'until') : now + svc.opts.bucketMs;
  // Without since: everything kept at the step asked for (a step below an hour: the base retention).
  const fine = q.step !== undefined && svc.stepOf(q.step, keptFrom, untilMs, now) < HOUR_MS;
  const sinceMs =
    q.since !== undefined ? svc.instant(q.since, 'since') : fine ? keptFrom : now - svc.opts.hourlyRetentionMs;
  if (untilMs <= sinceMs) throw invalid('until', 'must be after since');
  const stepMs =
    q.step !== undefined
      ? svc.stepOf(q.step, sinceMs, untilMs, now)
      : sinceMs >= keptFrom
        ? svc.opts.bucketMs
        : HOUR_MS;
  return historyCsv([...svc.grouped(pair, sinceMs, untilMs, stepMs).values()], svc.zone);
}
