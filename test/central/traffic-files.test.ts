// Traffic history files and the series over central's real HTTP API (fastify inject, real SQLite): import in
// both timestamp forms, at 1-min and 1-h intervals, decimals rounded; bad rows refused with their line numbers
// and nothing written; re-import of an overlapping range; live buckets never overwritten; unknown nodes;
// export → import round trip; the step chosen from the range; a city admin's scope.
import { afterEach, describe, expect, it } from 'vitest';
import type { TrafficExport, TrafficHistory, TrafficImportSummary } from '../../central/src/api/traffic.js';
import { buildApp, type App } from '../../central/src/http/app.js';
import type { TrafficImported } from '../../central/src/services/traffic.js';
import { closingCentralDeps, enrollNode, TEST_ADMIN_TOKEN, type CentralDeps } from '../helpers/central-deps.js';

const deps = closingCentralDeps();
const apps: App[] = [];
afterEach(async () => {
  for (const a of apps.splice(0)) await a.close();
});

const NOW = Date.UTC(2026, 5, 1, 0, 0, 0); // 2026-06-01 08:00 Shanghai
const MIN = 60_000;

interface World {
  d: CentralDeps;
  a: string;
  b: string;
  call<T>(method: 'GET' | 'POST', url: string, body?: unknown, token?: string): Promise<{ status: number; body: T }>;
  imported: TrafficImported[];
}

async function world(): Promise<World> {
  const d = deps();
  d.manual!.nowMs = NOW;
  const a = enrollNode(d, 'fe-a').node.id;
  const b = enrollNode(d, 'fe-b').node.id;
  const app = await buildApp(d.http);
  apps.push(app);
  const imported: TrafficImported[] = [];
  d.traffic.onImported = (e) => imported.push(e);
  const call: World['call'] = async (method, url, body, token = TEST_ADMIN_TOKEN) => {
    const r = await app.inject({
      method,
      url: `/api/v1${url}`,
      headers: { authorization: `Bearer ${token}` },
      ...(body !== undefined && { payload: body as object }),
    });
    return { status: r.statusCode, body: r.json() };
  };
  return { d, a, b, call, imported };
}

async function ok<T>(p: Promise<{ status: number; body: T }>): Promise<T> {
  const r = await p;
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body;
}

const importCsv = (w: World, csv: string, extra: Record<string, string> = {}) =>
  w.call<TrafficImportSummary & { error: { message: string } }>('POST', '/traffic/import', {
    from: w.a,
    to: w.b,
    csv,
    ...extra,
  });

const show = (w: World, q: string) => ok(w.call<TrafficHistory>('GET', `/traffic?from=${w.a}&to=${w.b}&${q}`));
const records = (h: TrafficHistory): number[] => h.buckets.map((b) => b.records);

describe('traffic files - import', () => {
  it('traffic import - ISO and local timestamps name the same buckets; 1-min rows add up, decimals round', async () => {
    const w = await world();
    // 10 one-minute rows from 2026-05-31 10:00 Shanghai = 02:00Z, the first five as local time, the rest ISO.
    const lines = ['timestamp,records,bytes'];
    for (let i = 0; i < 10; i++) {
      const utc = Date.UTC(2026, 4, 31, 2, i);
      const ts = i < 5 ? `2026-05-31 10:0${i}:00` : new Date(utc).toISOString();
      lines.push(`${ts},${i === 0 ? '1.5' : 10},${i === 9 ? '"7"' : ''}`);
    }
    const s = await ok(importCsv(w, lines.join('\r\n') + '\r\n'));
    expect(s).toMatchObject({
      rowsRead: 10,
      intervalMs: MIN,
      bucketsWritten: 2,
      records: 92,
      keptLive: 0,
      replaced: 0,
    });
    expect(s.since).toBe('2026-05-31T10:00:00+08:00');
    const h = await show(w, `since=2026-05-31 10:00:00&until=2026-05-31 10:10:00`);
    expect(h.step).toBe('5m');
    expect(h.buckets.map((b) => [b.start, b.records, b.bytes])).toEqual([
      ['2026-05-31T10:00:00+08:00', 42, null],
      ['2026-05-31T10:05:00+08:00', 50, 7],
    ]);
    expect(w.imported).toEqual([
      {
        pair: { fromNode: w.a, toNode: w.b, resource: '' },
        sinceMs: Date.UTC(2026, 4, 31, 2),
        untilMs: Date.UTC(2026, 4, 31, 2, 10),
      },
    ]);
  });

  it('traffic import - hourly rows are spread evenly over 5-min buckets, keeping every total', async () => {
    const w = await world();
    const csv = 'timestamp,records\n2026-05-30T00:00:00+08:00,1000\n2026-05-30T01:00:00+08:00,12\n';
    expect(await ok(importCsv(w, csv))).toMatchObject({ intervalMs: 60 * MIN, bucketsWritten: 24, records: 1012 });
    const h = await show(w, 'since=2026-05-30&until=2026-05-30 02:00:00&step=5m');
    expect(records(h)).toEqual([84, 84, 84, 84, 83, 83, 83, 83, 83, 83, 83, 83, ...Array(12).fill(1)]);
    expect((await show(w, 'since=2026-05-30&until=2026-05-30 02:00:00&step=1h')).buckets.map((b) => b.records)).toEqual(
      [1000, 12],
    );
  });

  it('traffic import - every bad row is named by its line and nothing is written', async () => {
    const w = await world();
    const csv = [
      'timestamp,records',
      '2026-05-30 00:00:00,5',
      '2026-05-30 00:05:00,-1',
      '2026-05-30 25:00:00,5',
      'yesterday,5',
      '2026-05-30 00:15:00',
      '2026-05-30 00:20:00,abc',
      '2026-05-30 00:25:00,3',
    ].join('\n');
    const r = await importCsv(w, csv);
    expect(r.status).toBe(400);
    expect(r.body.error.message.split('\n')).toEqual([
      'csv: 5 bad row(s); nothing imported:',
      'line 3: records "-1": must be a non-negative number',
      'line 4: timestamp "2026-05-30 25:00:00": no such date or time',
      'line 5: timestamp "yesterday": not ISO 8601 nor YYYY-MM-DD HH:MM:SS',
      'line 6: 1 field(s), the header has 2',
      'line 7: records "abc": must be a non-negative number',
    ]);
    const grid = await importCsv(
      w,
      'timestamp,records\n2026-05-30 00:00:00,1\n2026-05-30 00:05:00,1\n2026-05-30 00:12:00,1\n2026-05-30 00:20:00,1\n',
    );
    expect(grid.body.error.message).toContain('line 4: off the 300 s grid');
    const fine = await importCsv(w, 'timestamp,records\n2026-05-30 00:00:00,1\n2026-05-30 00:00:30,1\n');
    expect(fine.body.error.message).toContain('line 3: rows 30 s apart: the interval must be 1 min to 1 h');
    const dup = await importCsv(w, 'timestamp,records\n2026-05-30 00:00:00,1\n2026-05-30T00:00:00+08:00,2\n');
    expect(dup.body.error.message).toContain('line 3: the same timestamp as line 2');
    const header = await importCsv(w, 'time,records\n2026-05-30 00:00:00,1\n');
    expect(header.body.error.message).toContain('line 1: header: unknown column(s) time');
    expect(w.d.store.traffic.counts()).toEqual({ buckets: 0, hours: 0, ids: 0 });
    expect(w.imported).toEqual([]);
  });

  it('traffic import - a re-import replaces the imported buckets of its range; live buckets are kept', async () => {
    const w = await world();
    const rows = (start: number, values: number[]) =>
      ['timestamp,records', ...values.map((v, i) => `${new Date(start + i * 5 * MIN).toISOString()},${v}`)].join('\n');
    const T = Date.UTC(2026, 4, 31, 0, 0);
    await ok(importCsv(w, rows(T, [1, 2, 3, 4])));
    // A live report for the third bucket (agent bucket of 5 min).
    w.d.reports.ingest(w.b, [
      {
        reportId: 'live-1',
        seq: 1,
        observedAtMs: 0,
        kind: 'traffic',
        body: {
          sourceNodeId: w.a,
          destinationNodeId: w.b,
          resourceCode: '',
          bucketStartMs: T + 10 * MIN,
          bucketMs: 5 * MIN,
          batches: 1,
          records: 99,
          bytes: 10,
          latencyP50Ms: 5,
          latencyP99Ms: 6,
          errors: 0,
        },
      },
    ]);
    const again = await ok(importCsv(w, rows(T + 5 * MIN, [20, 30, 40, 50])));
    expect(again).toMatchObject({ replaced: 2, bucketsWritten: 3, keptLive: 1 });
    const h = await show(w, `since=${T}&until=${T + 30 * MIN}&step=5m`);
    expect(records(h)).toEqual([1, 20, 99, 40, 50, 0]);
    expect(h.buckets[2]).toMatchObject({ batches: 1, latencyP50Ms: 5 });
    expect((await show(w, `since=${T}&until=${T + HOUR}&step=1h`)).totals.records).toBe(210);
  });

  it('traffic import - unknown nodes and resources are refused naming them', async () => {
    const w = await world();
    const r = await w.call<{ error: { message: string } }>('POST', '/traffic/import', {
      from: 'nd-nope',
      to: w.b,
      csv: 'timestamp,records\n',
    });
    expect([r.status, r.body.error.message]).toEqual([404, 'node "nd-nope" not found']);
    const s = await w.call<{ error: { message: string } }>('GET', `/traffic?from=${w.a}&to=nd-gone`);
    expect([s.status, s.body.error.message]).toEqual([404, 'node "nd-gone" not found']);
    const res = await importCsv(w, 'timestamp,records\n2026-05-30 00:00:00,1\n', { resource: 'R-NONE' });
    expect([res.status, res.body.error.message]).toEqual([400, 'resource: no resource "R-NONE" in the catalog']);
  });
});

const HOUR = 60 * MIN;

describe('traffic files - export and show', () => {
  it('traffic export - an export imported into another pair exports the same file', async () => {
    const w = await world();
    const c = enrollNode(w.d, 'fe-c').node.id;
    const lines = ['timestamp,records,bytes'];
    const T = Date.UTC(2026, 4, 30, 16); // local midnight
    for (let i = 0; i < 288; i++) lines.push(`${new Date(T + i * 5 * MIN).toISOString()},${(i * 7) % 50},${i * 100}`);
    await ok(importCsv(w, lines.join('\n')));
    const q = `since=2026-05-31&until=2026-06-01`;
    const first = await ok(w.call<TrafficExport>('GET', `/traffic/export?from=${w.a}&to=${w.b}&${q}`));
    expect(first.rows).toBe(288);
    expect(first.csv.split('\n').slice(0, 3)).toEqual([
      'timestamp,records,bytes',
      '2026-05-31T00:00:00+08:00,0,0',
      '2026-05-31T00:05:00+08:00,7,100',
    ]);
    await ok(w.call('POST', '/traffic/import', { from: w.a, to: c, csv: first.csv }));
    const second = await ok(w.call<TrafficExport>('GET', `/traffic/export?from=${w.a}&to=${c}&${q}`));
    expect(second.csv).toBe(first.csv);
  });

  it('traffic show - the step follows the range: base buckets for a day, hours for a month, days for a year', async () => {
    const w = await world();
    const lines = ['timestamp,records'];
    const end = NOW - 8 * HOUR; // local midnight
    const start = end - 365 * 24 * HOUR;
    for (let t = start; t < end; t += HOUR) lines.push(`${new Date(t).toISOString()},1`);
    const s = await ok(importCsv(w, lines.join('\n')));
    expect(s.rowsRead).toBe(8760);
    const day = await show(w, `since=${end - 24 * HOUR}&until=${end}`);
    expect([day.step, day.buckets.length, day.totals.records]).toEqual(['5m', 288, 24]);
    const month = await show(w, `since=${end - 30 * 24 * HOUR}&until=${end}`);
    expect([month.step, month.buckets.length, month.totals.records]).toEqual(['1h', 720, 720]);
    const year = await show(w, `since=${start}&until=${end}`);
    expect([year.step, year.buckets.length, year.totals.records, year.forecast]).toEqual(['1d', 365, 8760, null]);
    expect(year.buckets.every((b) => b.records === 24 && b.start.endsWith('T00:00:00+08:00'))).toBe(true);
  });

  it('traffic show - a city admin sees pairs with a node in its region only', async () => {
    const w = await world();
    w.d.registry.createRegion({ code: '360100', name: '南昌市', level: 'city', parentCode: '360000' });
    w.d.registry.createDepartment({ code: 'nc', name: '南昌', regionCode: '360100' });
    const nc = enrollNode(w.d, 'fe-nc', 'nc').node.id;
    const user = await w.call<{ token: string }>('POST', '/users', {
      name: 'nc',
      role: 'city_admin',
      regionCode: '360100',
    });
    expect(user.status).toBe(201);
    const token = user.body.token;
    expect((await w.call('GET', `/traffic?from=${w.a}&to=${nc}`, undefined, token)).status).toBe(200);
    const hidden = await w.call<{ error: { message: string } }>(
      'GET',
      `/traffic?from=${w.a}&to=${w.b}`,
      undefined,
      token,
    );
    expect([hidden.status, hidden.body.error.message]).toEqual([
      403,
      `city_admin nc sees the traffic of nodes in region 360100 and below only, not ${w.a} → ${w.b}`,
    ]);
    const imp = await w.call('POST', '/traffic/import', { from: w.a, to: nc, csv: 'timestamp,records\n' }, token);
    expect(imp.status).toBe(403);
  });
});
