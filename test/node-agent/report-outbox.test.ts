// The report outbox against a real central process: a report central refuses as invalid is set aside in
// the spool's dead-letter (ERROR log, event to central) while every other report arrives exactly once and
// in order, also across an outage; a report too large for central's message limit (as central announces
// it) is trimmed in the outbox and delivered instead of blocking the ones after it.
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { pino, type Logger } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Agent } from '../../node-agent/src/agent.js';
import { compileConfig, type AgentConfig } from '../../node-agent/src/config.js';
import type { OutboxReport } from '../../node-agent/src/spool/sqlite-spool.js';
import { FAST_AGENT } from '../helpers/agent.js';
import { Api } from '../helpers/api.js';
import { CentralProcess } from '../helpers/central.js';
import { removeTmpDirs, tmpDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait-for.js';

interface StoredReport {
  reportId: string;
  seq: number;
  kind: string;
  body: Record<string, unknown>;
}

const DEPT = 'tjj';

function capturedLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const logger = pino(
    { level: 'info' },
    { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) },
  );
  return { logger, lines };
}

describe('report outbox - refused and oversized reports never block the others', () => {
  let central: CentralProcess;
  let api: Api;
  const agents: Agent[] = [];

  function config(dataDir: string, token: string, extra: Record<string, unknown> = {}): AgentConfig {
    return compileConfig({
      env: {},
      overrides: { ...FAST_AGENT, dataDir, central: { address: central.grpcAddress, enrollToken: token }, ...extra },
    });
  }
  const centralDown = (): boolean => central.proc.child.exitCode !== null || central.proc.child.signalCode !== null;

  beforeAll(async () => {
    central = await CentralProcess.start({ pollTimeoutMs: 2_000 });
    api = new Api(central.url, central.adminToken);
    await api.seedDepartment(DEPT);
  });
  afterEach(async () => {
    await Promise.all(agents.splice(0).map((a) => a.shutdown()));
    if (centralDown()) await central.restart();
  });
  afterAll(async () => {
    await central?.stop();
    removeTmpDirs();
  });

  it('report outbox - a report central refuses as invalid is set aside; the reports around it arrive exactly once, in order, after an outage', async () => {
    const dataDir = tmpDir('xchg-agent-');
    const { logger, lines } = capturedLogger();
    // Metrics every 5 s only, so the call after the outage holds just what the test made and a few samples.
    const a = new Agent(config(dataDir, await api.enrollToken(DEPT, 'tjj-refused'), { reportIntervalMs: 5_000 }), {
      logger,
    });
    agents.push(a);
    const made: OutboxReport[] = [];
    a.on('report', (r: OutboxReport) => made.push(r));
    await a.start();
    const nodeId = a.nodeId!;
    await waitFor(() => made.length >= 1 && a.outboxDepth === 0, 10_000, 20, 'the start event delivered');

    // Made while central is down, so that they go in one call: the refused one in the middle of it.
    await central.stop('SIGKILL');
    const event = (i: number): Record<string, unknown> => ({
      severity: 'info',
      code: 'ORDER_TEST',
      message: `#${i}`,
      taskId: '',
    });
    a.report('event', event(1));
    a.report('event', event(2));
    // A kind this central does not know (as from a newer agent): central refuses it with INVALID_ARGUMENT,
    // for as long as it is sent.
    a.report('unknown_kind' as 'event', { severity: 'info', code: 'FROM_THE_FUTURE', message: 'x', taskId: '' });
    const refused = made.at(-1)!;
    a.report('event', event(3));
    a.report('event', event(4));
    await central.restart();

    const setAside = await waitFor(
      () => lines.find((l) => l['msg'] === 'report set aside: central refused it'),
      30_000,
      20,
      'the ERROR log of the set-aside report',
    );
    expect(setAside).toMatchObject({ level: 50, seq: refused.seq, reportId: refused.reportId, kind: 'unknown_kind' });
    expect(String(setAside['reason'])).toBe(
      'INVALID_ARGUMENT: items[0].body: is empty: one of task_run, metrics, traffic, quarantine, event is required',
    );
    await waitFor(() => a.outboxDepth === 0, 30_000, 20, 'the outbox drained past the refused report');
    await a.shutdown();

    const stored = await api.ok<StoredReport[]>('GET', `/reports?node=${nodeId}&limit=10000`);
    const seqs = stored.map((r) => r.seq);
    expect(new Set(seqs).size).toBe(seqs.length); // none twice
    const expected = made.filter((r) => r.reportId !== refused.reportId);
    expect([...seqs].sort((x, y) => x - y)).toEqual(expected.map((r) => r.seq)); // every other one, nothing extra
    const ordered = stored.filter((r) => r.body['code'] === 'ORDER_TEST').sort((x, y) => x.seq - y.seq);
    expect(ordered.map((r) => r.body['message'])).toEqual(['#1', '#2', '#3', '#4']);
    // Central was told, with the reason.
    const told = stored.filter((r) => r.kind === 'event' && r.body['code'] === 'REPORT_SET_ASIDE');
    expect(told.map((r) => [r.body['severity'], r.body['message']])).toEqual([
      [
        'error',
        `report ${refused.seq} (unknown_kind) set aside: central refused it: INVALID_ARGUMENT: items[0].body: is empty: one of task_run, metrics, traffic, quarantine, event is required; it is kept in the spool's report_dead_letter`,
      ],
    ]);
    // Kept in the spool's dead-letter, whole, and gone from the outbox.
    const spool = new Database(join(dataDir, 'spool.db'), { readonly: true });
    const dead = spool.prepare('SELECT seq, report_id, kind, body_json, reason FROM report_dead_letter').all();
    const left = (spool.prepare('SELECT count(*) AS n FROM report_outbox').get() as { n: number }).n;
    spool.close();
    expect(dead).toEqual([
      {
        seq: refused.seq,
        report_id: refused.reportId,
        kind: 'unknown_kind',
        body_json: JSON.stringify({ severity: 'info', code: 'FROM_THE_FUTURE', message: 'x', taskId: '' }),
        reason:
          'INVALID_ARGUMENT: items[0].body: is empty: one of task_run, metrics, traffic, quarantine, event is required',
      },
    ]);
    expect(left).toBe(0);
  });

  it("report outbox - a quarantine report larger than central's announced limit is trimmed in the outbox and delivered; the next report follows", async () => {
    const { logger, lines } = capturedLogger();
    // The agent's own setting is above central's limit: only what central announces keeps the call small.
    const a = new Agent(
      config(tmpDir('xchg-agent-'), await api.enrollToken(DEPT, 'tjj-large'), {
        reportMaxMessageBytes: 64 * 1024 * 1024,
        reportIntervalMs: 5_000,
      }),
      { logger },
    );
    agents.push(a);
    await a.start();
    const nodeId = a.nodeId!;
    const announced = await waitFor(
      () => lines.find((l) => l['msg'] === 'central message limit announced'),
      15_000,
      20,
      'the announced limit',
    );
    expect(announced['maxMessageBytes']).toBe(4 * 1024 * 1024);

    // As an earlier agent version left it in the outbox: one report of three 2,000,000-character records.
    const values = [0, 1, 2].map((i) => `row-${i}:`.padEnd(2_000_000, '0123456789'));
    a.report('quarantine', {
      taskId: 'task-legacy',
      count: 3,
      byReason: { 'record larger than 65536 bytes': 3 },
      records: values.map((v, i) => ({
        id: 100 + i,
        side: 'provider',
        origin: `cursor-${i}`,
        rowIndex: i,
        reason: 'record larger than 65536 bytes',
        field: '',
        recordJson: JSON.stringify({ id: 9000 + i, name: `名${i}`, address: v }),
        createdAtMs: 1_700_000_000_000,
      })),
    });
    a.report('event', { severity: 'info', code: 'AFTER_THE_LARGE_ONE', message: 'next', taskId: '' });

    const after = await waitFor(
      async () =>
        (await api.ok<StoredReport[]>('GET', `/reports?node=${nodeId}&kind=event&limit=100`)).find(
          (r) => r.body['code'] === 'AFTER_THE_LARGE_ONE',
        ),
      30_000,
      50,
      'the report after the large one',
    );
    const [q] = await api.ok<StoredReport[]>('GET', `/reports?node=${nodeId}&kind=quarantine&limit=100`);
    expect(q!.seq).toBeLessThan(after.seq);
    const records = q!.body['records'] as {
      id: number;
      origin: string;
      rowIndex: number;
      reason: string;
      recordJson: string;
    }[];
    expect(records.map((r) => [r.id, r.origin, r.rowIndex, r.reason])).toEqual(
      [0, 1, 2].map((i) => [100 + i, `cursor-${i}`, i, 'record larger than 65536 bytes']),
    );
    for (const [i, r] of records.entries()) {
      const v = JSON.parse(r.recordJson) as { id: number; name: string; address: string };
      expect(v.id).toBe(9000 + i);
      expect(v.name).toBe(`名${i}`);
      const m =
        /^(.*)…\[trimmed: (\d+) of 2000000 characters cut; original 2000000 bytes, sha-256 ([0-9a-f]{64})\]$/s.exec(
          v.address,
        )!;
      expect(values[i]!.startsWith(m[1]!)).toBe(true);
      expect(m[1]!.length + Number(m[2])).toBe(2_000_000);
      expect(m[3]).toBe((await import('node:crypto')).createHash('sha256').update(values[i]!).digest('hex'));
    }
    const trimmed = lines.find((l) => l['msg'] === 'report trimmed to fit central message limit')!;
    expect(trimmed).toMatchObject({ level: 40, kind: 'quarantine', limitBytes: 4 * 1024 * 1024 - 4096 });
    expect(Number(trimmed['bytes'])).toBeGreaterThan(6_000_000);
    expect(Number(trimmed['trimmedBytes'])).toBeLessThanOrEqual(4 * 1024 * 1024 - 4096);
    expect(lines.filter((l) => l['msg'] === 'report set aside: central refused it')).toEqual([]);
  });
});
