// Large quarantined records never stop the reports to central (issue 8, fault 8): 70 records of 70,000
// characters each are quarantined at the provider; their reports are split and their values trimmed to
// fit central's 4 MiB message limit, so central lists all 70 (reason and identifying fields whole, values
// clipped with a marker), and the task runs and the reports made after them arrive, each exactly once.
import { createHash } from 'node:crypto';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Exchange } from '../helpers/exchange.js';
import { waitFor } from '../helpers/wait-for.js';

const ROWS = 300;
const BAD = 70;
const CHARS = 70_000;
const badId = (i: number): number => ROWS + 1 + i;
/** 70,000 characters, different for every record (so each has its own sha-256). */
const address = (i: number): string => `地址${i}:`.padEnd(CHARS, 'abcdefghijklmnopqrstuvwxyz0123456789');
const sha = (s: string): string => createHash('sha256').update(s).digest('hex');

interface QuarantinedJson {
  nodeId: string;
  agentId: number;
  taskId: string;
  side: string;
  origin: string;
  rowIndex: number;
  reason: string;
  field: string;
  record: Record<string, unknown>;
}
interface ReportJson {
  seq: number;
  kind: string;
  body: Record<string, unknown>;
}

describe('large quarantine - reports fit central and never block the others', () => {
  let x: Exchange;
  let syncTaskId = '';

  beforeAll(async () => {
    x = await Exchange.start({ rows: ROWS });
    const db = new Database(x.sourcePath);
    const ins = db.prepare(
      "INSERT INTO person (id, id_no, name, gender, birth_date, phone, district, address, updated_at, deleted) VALUES (?, ?, ?, '男', '1990-01-01', '13800000000', '南昌市东湖区', ?, ?, 0)",
    );
    const at = 1_700_000_000_000 + ROWS / 2; // among the good rows: batches mix good and oversized ones
    db.transaction(() => {
      for (let i = 0; i < BAD; i++)
        ins.run(badId(i), `3601021990010${String(i).padStart(5, '0')}`, `大记录${i}`, address(i), at);
    })();
    db.close();
    await x.subscribe();
    const tasks = await x.api.ok<{ id: string; kind: string }[]>('GET', '/tasks');
    syncTaskId = tasks.find((t) => t.kind === 'sync')!.id;
  });
  afterAll(async () => {
    await x?.stop();
  });

  it('large quarantine - central lists all 70 records with their reason and identity, values trimmed with the marker', async () => {
    await waitFor(() => x.sinkCount() === ROWS, 60_000, 100, 'good rows at the sink');
    const listed = await waitFor(
      async () => {
        const rows = await x.api.ok<QuarantinedJson[]>('GET', `/tasks/${syncTaskId}/quarantine`);
        return rows.length === BAD && rows;
      },
      60_000,
      200,
      'all 70 quarantined records listed by central',
    );
    // What the provider's own quarantine holds: the whole records and what identifies each.
    const spool = new Database(`${x.provider.dataDir}/spool.db`, { readonly: true });
    const held = spool
      .prepare(
        "SELECT id, origin, row_index, reason, field, record FROM quarantine WHERE side = 'provider' ORDER BY id",
      )
      .all() as {
      id: number;
      origin: string;
      row_index: number;
      reason: string;
      field: string | null;
      record: string;
    }[];
    const dead = (spool.prepare('SELECT count(*) AS n FROM report_dead_letter').get() as { n: number }).n;
    spool.close();
    expect(held).toHaveLength(BAD);
    expect(dead).toBe(0);

    const byAgentId = new Map(listed.map((r) => [r.agentId, r]));
    const seenIds = new Set<number>();
    for (const h of held) {
      const whole = JSON.parse(h.record) as { id: number; address: string };
      expect(whole.address).toHaveLength(CHARS); // the spool keeps the whole record
      const c = byAgentId.get(h.id)!;
      expect(c).toBeDefined();
      expect(c).toMatchObject({
        nodeId: x.providerId,
        taskId: syncTaskId,
        side: 'provider',
        origin: h.origin,
        rowIndex: h.row_index,
        reason: 'record larger than 65536 bytes',
        field: h.field ?? '',
      });
      const i = whole.id - ROWS - 1;
      seenIds.add(whole.id);
      // Key and every short value whole; the long one clipped, with what was cut, the size and the hash.
      expect(c.record).toMatchObject({
        id: badId(i),
        id_no: `3601021990010${String(i).padStart(5, '0')}`,
        name: `大记录${i}`,
        birth_date: '1990-01-01',
        district: '南昌市东湖区',
      });
      const m = /^(.*)…\[trimmed: (\d+) of 70000 characters cut; original (\d+) bytes, sha-256 ([0-9a-f]{64})\]$/s.exec(
        String(c.record['address']),
      )!;
      expect(m).not.toBeNull();
      expect(address(i).startsWith(m[1]!)).toBe(true);
      expect(m[1]!.length).toBeGreaterThan(1000);
      expect(m[1]!.length + Number(m[2])).toBe(CHARS);
      expect(Number(m[3])).toBe(Buffer.byteLength(address(i)));
      expect(m[4]).toBe(sha(address(i)));
    }
    expect([...seenIds].sort((a, b) => a - b)).toEqual(Array.from({ length: BAD }, (_, i) => badId(i)));

    // They went in several quarantine reports, each one within central's limit.
    const qReports = (
      await x.api.ok<ReportJson[]>('GET', `/reports?node=${x.providerId}&kind=quarantine&limit=10000`)
    ).filter((r) => ((r.body['records'] as unknown[] | undefined) ?? []).length > 0);
    expect(qReports.length).toBeGreaterThanOrEqual(2);
    expect(qReports.reduce((n, r) => n + Number(r.body['count']), 0)).toBe(BAD);
  });

  it('large quarantine - task runs and the reports made after the quarantine reports arrive, each exactly once', async () => {
    await waitFor(
      async () => {
        const runs = await x.api.ok<ReportJson[]>('GET', `/reports?node=${x.providerId}&kind=task_run&limit=10000`);
        return (
          runs.filter((r) => r.body['taskId'] === syncTaskId).reduce((n, r) => n + Number(r.body['quarantined']), 0) ===
          BAD
        );
      },
      30_000,
      200,
      'the quarantined count in the provider task runs',
    );
    const lastQuarantineSeq = Math.max(
      ...(await x.api.ok<ReportJson[]>('GET', `/reports?node=${x.providerId}&kind=quarantine&limit=10000`)).map(
        (r) => r.seq,
      ),
    );
    // Metrics are made every 200 ms: ones made after the last quarantine report reach central too.
    await waitFor(
      async () =>
        (
          await x.api.ok<ReportJson[]>(
            'GET',
            `/reports?node=${x.providerId}&kind=metrics&afterSeq=${lastQuarantineSeq}&limit=10`,
          )
        ).length >= 3,
      30_000,
      200,
      'reports made after the quarantine reports',
    );
    // Everything up to the newest stored report is there, once: no report was skipped or stored twice.
    const stored = (await x.api.ok<ReportJson[]>('GET', `/reports?node=${x.providerId}&limit=10000`))
      .map((r) => r.seq)
      .sort((a, b) => a - b);
    expect(stored).toEqual(Array.from({ length: stored.at(-1)! }, (_, i) => i + 1));
  });
});
