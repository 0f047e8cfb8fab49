// End-to-end: Prometheus /metrics of a real central and of two real agents (metrics.listen on port 0) while
// a subscription moves rows between them. Each text passes `promtool check metrics` with no warning, and the
// key series equal what the API and the data say: nodes online, departments, tasks, alerts, applications,
// records written at the consumer (agent task counter = central's traffic ingest = rows in the sink). The
// Grafana dashboard in deploy/ asks only for series these texts declare, so it cannot rot.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Exchange } from '../helpers/exchange.js';
import { families, parseSamples, promtoolCheck, scrape, sum } from '../helpers/prom-text.js';
import { removeTmpDirs } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait-for.js';

const ROWS = 3_000;

interface Summary {
  nodes: { total: number; online: number };
  applications: { pending: number; overdue: number };
  alerts: { open: number; critical: number };
}

describe('metrics - central and agent /metrics', () => {
  let x: Exchange;
  let providerMetrics = '';
  let consumerMetrics = '';

  beforeAll(async () => {
    x = await Exchange.start({
      rows: ROWS,
      agentConfig: { metrics: { listen: '127.0.0.1:0' } },
      // 2 s traffic buckets: the consumer's traffic reports reach central within seconds.
      centralEnv: { XCHG_CENTRAL_TRAFFIC_BUCKET_MS: '2000' },
    });
    const port = async (p: typeof x.provider): Promise<number> =>
      Number((await p.proc.waitForLog((l) => l['msg'] === 'metrics listening'))['port']);
    providerMetrics = `http://127.0.0.1:${await port(x.provider)}/metrics`;
    consumerMetrics = `http://127.0.0.1:${await port(x.consumer)}/metrics`;
    await x.subscribe();
    await waitFor(() => x.sinkCount() > 0, 60_000, 100, 'first rows in the sink');
  }, 120_000);

  afterAll(async () => {
    await x?.stop();
    removeTmpDirs();
  });

  it('metrics - every scrape passes promtool check metrics without warnings', async () => {
    for (const url of [`${x.central.url}/metrics`, providerMetrics, consumerMetrics]) {
      const text = await scrape(url);
      expect(text.length).toBeGreaterThan(1000); // promtool accepts an empty text too
      const r = await promtoolCheck(text);
      expect({ url, ...r }).toEqual({ url, code: 0, output: '' });
      for (const name of families(text).keys()) expect(name).toMatch(/^xchg_/);
    }
  });

  it('metrics - central series equal the API: nodes online, departments, tasks, alerts, applications', async () => {
    const summary = await x.api.ok<Summary>('GET', '/dashboard/summary');
    const central = parseSamples(await scrape(`${x.central.url}/metrics`));
    expect(summary.nodes).toMatchObject({ total: 2, online: 2 });
    expect(sum(central, 'xchg_nodes', { status: 'online' })).toBe(summary.nodes.online);
    expect(sum(central, 'xchg_nodes', { status: 'offline' })).toBe(summary.nodes.total - summary.nodes.online);
    expect(sum(central, 'xchg_department_nodes', { department: 'gat', status: 'online' })).toBe(1);
    expect(sum(central, 'xchg_department_nodes', { department: 'mzj', status: 'online' })).toBe(1);
    expect(central.find((s) => s.name === 'xchg_department_nodes')?.labels['city']).toBe('360000');
    expect(sum(central, 'xchg_tasks', { kind: 'sync', enabled: 'true' })).toBe(1);
    expect(sum(central, 'xchg_tasks', { kind: 'exchange', enabled: 'true' })).toBe(1);
    expect(sum(central, 'xchg_alerts_open')).toBe(summary.alerts.open);
    expect(sum(central, 'xchg_alerts_open', { severity: 'critical' })).toBe(summary.alerts.critical);
    expect(sum(central, 'xchg_applications', { state: 'pending' })).toBe(summary.applications.pending);
    expect(sum(central, 'xchg_applications', { state: 'overdue' })).toBe(summary.applications.overdue);
    expect(sum(central, 'xchg_grpc_requests_total', { method: 'Heartbeat', code: 'OK' })).toBeGreaterThan(0);
    expect(sum(central, 'xchg_grpc_request_duration_seconds_count', { method: 'Heartbeat' })).toBeGreaterThan(0);
    expect(sum(central, 'xchg_http_request_duration_seconds_count', { route: '/api/v1/dashboard/summary' })).toBe(1);
    expect(sum(central, 'xchg_job_runs_total', { job: 'liveness-sweep', outcome: 'ok' })).toBeGreaterThan(0);
  });

  it('metrics - records written at the consumer: agent counter = central traffic ingest = rows in the sink', async () => {
    await waitFor(() => x.sinkCount() === ROWS, 120_000, 200, `${ROWS} rows in the sink`);
    expect(x.compare().problems).toEqual([]);
    const figures = await waitFor(
      async () => {
        const consumer = parseSamples(await scrape(consumerMetrics));
        const central = parseSamples(await scrape(`${x.central.url}/metrics`));
        const f = {
          agentRecords: sum(consumer, 'xchg_agent_task_records_total', { kind: 'exchange' }),
          agentBatches: sum(consumer, 'xchg_agent_task_batches_total', { kind: 'exchange' }),
          latencyCount: sum(consumer, 'xchg_agent_delivery_latency_seconds_count'),
          centralRecords: sum(central, 'xchg_traffic_records_total'),
          centralBatches: sum(central, 'xchg_traffic_batches_total'),
        };
        const settled = f.agentRecords === ROWS && f.centralRecords === ROWS && f.centralBatches === f.agentBatches;
        return settled && f;
      },
      60_000,
      250,
      'counters settled at the rows written',
    );
    expect(figures.agentBatches).toBeGreaterThan(0);
    expect(figures.latencyCount).toBe(figures.agentBatches);

    const provider = parseSamples(await scrape(providerMetrics));
    const consumer = parseSamples(await scrape(consumerMetrics));
    expect(sum(provider, 'xchg_agent_task_records_total', { kind: 'sync' })).toBeGreaterThanOrEqual(ROWS);
    expect(sum(provider, 'xchg_agent_jetstream_publishes_total', { outcome: 'acked' })).toBeGreaterThan(0);
    expect(sum(provider, 'xchg_agent_jetstream_publishes_total', { outcome: 'failed' })).toBe(0);
    for (const [agent, samples] of [
      [x.providerId, provider],
      [x.consumerId, consumer],
    ] as const) {
      expect(sum(samples, 'xchg_agent_info', { node: agent })).toBe(1);
      expect(sum(samples, 'xchg_agent_central_reachable')).toBe(1);
      expect(sum(samples, 'xchg_agent_state', { state: 'RUNNING' })).toBe(1);
      expect(sum(samples, 'xchg_agent_process_resident_memory_bytes')).toBeGreaterThan(0);
    }
    // Once every receipt is in, the provider's spool outbox is empty and its task gauges say so.
    await waitFor(
      async () => sum(parseSamples(await scrape(providerMetrics)), 'xchg_agent_spool_batches') === 0,
      30_000,
      200,
      'provider spool drained',
    );
    const tasks = (await x.api.ok<{ id: string; kind: string }[]>('GET', '/tasks')).map((t) => t.id).sort();
    const labelled = new Set(
      [...provider, ...consumer].filter((s) => s.name === 'xchg_agent_task_lag_seconds').map((s) => s.labels['task']),
    );
    expect([...labelled].sort()).toEqual(tasks);
  });

  it('metrics - docs/metrics.md documents every series central and agents expose', async () => {
    const doc = readFileSync('docs/metrics.md', 'utf8');
    const documented = new Set([...doc.matchAll(/^\| `(xchg_[a-z0-9_]+)` \|/gm)].map((m) => m[1]!));
    const exposed = new Set<string>();
    for (const url of [`${x.central.url}/metrics`, providerMetrics, consumerMetrics])
      for (const name of families(await scrape(url)).keys())
        if (!/^xchg_(central|agent)_(process|nodejs)_/.test(name)) exposed.add(name);
    expect(exposed.size).toBeGreaterThan(50);
    expect([...exposed].filter((n) => !documented.has(n))).toEqual([]);
    expect([...documented].filter((n) => !exposed.has(n))).toEqual([]);
  });

  it('metrics - the Grafana dashboard asks only for series central and agents expose', async () => {
    const known = new Set<string>();
    for (const url of [`${x.central.url}/metrics`, providerMetrics, consumerMetrics])
      for (const [name, type] of families(await scrape(url))) {
        known.add(name);
        if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) known.add(name + s);
      }
    const dash = JSON.parse(readFileSync('deploy/grafana/xchg-dashboard.json', 'utf8')) as GrafanaDashboard;
    const panels = dash.panels.filter((p) => p.type !== 'row');
    const exprs = [
      ...panels.flatMap((p) => p.targets ?? []).map((t) => t.expr),
      ...dash.templating.list.filter((v) => v.type === 'query').map((v) => v.definition ?? ''),
    ];
    expect(panels.length).toBeGreaterThan(30);
    for (const p of panels) {
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
      expect(p.datasource?.uid, p.title).toBe('${DS_PROMETHEUS}');
    }
    expect(new Set(dash.panels.map((p) => p.id)).size).toBe(dash.panels.length);
    const used = new Set<string>();
    for (const e of exprs) {
      const names = e.match(/\bxchg_[a-zA-Z0-9_]+/g) ?? [];
      expect(names.length, e).toBeGreaterThan(0);
      for (const n of names) {
        expect(known.has(n), `${n} in ${e}`).toBe(true);
        used.add(n);
      }
    }
    // The series the issue names each have a panel.
    for (const n of [
      'xchg_department_nodes',
      'xchg_alerts_open',
      'xchg_applications',
      'xchg_tasks',
      'xchg_traffic_records_total',
      'xchg_agent_spool_batches',
      'xchg_agent_task_records_total',
      'xchg_agent_delivery_latency_seconds_bucket',
      'xchg_agent_jetstream_publishes_total',
      'xchg_center_jetstream_storage_bytes',
      'xchg_http_request_duration_seconds_bucket',
      'xchg_grpc_request_duration_seconds_bucket',
      'xchg_job_runs_total',
    ])
      expect(used.has(n), n).toBe(true);
    expect(dash.templating.list.map((v) => v.name)).toEqual([
      'DS_PROMETHEUS',
      'city',
      'department',
      'instance',
      'center',
    ]);
  });
});

interface GrafanaDashboard {
  panels: {
    id: number;
    type: string;
    title: string;
    datasource?: { uid: string };
    targets?: { expr: string }[];
  }[];
  templating: { list: { name: string; type: string; definition?: string }[] };
}
