// Catalog and sharing governance end to end with real processes (nats-server, central, a provider and a
// consumer agent): officers publish, apply and approve through the `xchg` CLI; the subscription's data
// reaches the consumer's SQLite sink with only the approved fields; revoking the agreement stops the flow
// while an unconditional control flow from the same table keeps running; a rejected application moves
// nothing; a not-shared resource cannot be applied for; every delivery is in the audit chain.
// Overdue applications need a clock that can be moved, so they are tested on the services and the HTTP
// API with a manual clock (test/central/governance-services.test.ts, governance-http.test.ts).
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mask, type MaskRule } from '../../node-agent/src/pipeline/mask.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { Exchange } from '../helpers/exchange.js';
import { waitFor } from '../helpers/wait-for.js';

const ROWS = 300;

interface Ack {
  assignmentId: string;
  generation: number;
  outcome: string;
  reason: string;
}
interface Task {
  id: string;
  kind: string;
  resourceCode: string;
  generation: number;
  enabled: boolean;
  subscriptionId: string;
  params: Record<string, unknown>;
}

function readSink(path: string): { columns: string[]; rows: Record<string, unknown>[] } {
  try {
    const db = new Database(path, { readonly: true, fileMustExist: true });
    try {
      const columns = (db.prepare('PRAGMA table_info(person)').all() as { name: string }[]).map((c) => c.name);
      const rows = columns.length
        ? (db.prepare('SELECT * FROM person ORDER BY id').all() as Record<string, unknown>[])
        : [];
      return { columns, rows };
    } finally {
      db.close();
    }
  } catch {
    return { columns: [], rows: [] };
  }
}

describe('catalog e2e - publish, apply, approve, subscribe, revoke with real agents', () => {
  let x: Exchange;
  const tok: Record<string, string> = {};
  let agreementId = '';
  let subscriptionId = '';

  const xchg = (as: string, args: string[]): Promise<CliResult> =>
    runCli(args, { XCHG_SERVER: x.central.url, XCHG_TOKEN: tok[as] });
  async function json<T>(as: string, args: string[]): Promise<T> {
    const r = await xchg(as, [...args, '-o', 'json']);
    if (r.code !== 0) throw new Error(`xchg ${args.join(' ')} → ${r.code}: ${r.stderr}`);
    return JSON.parse(r.stdout) as T;
  }
  /** Waits until `nodeId` acknowledged `taskId` at `generation`. */
  const acked = (nodeId: string, taskId: string, generation: number): Promise<Ack> =>
    waitFor(
      async () => {
        const d = await x.api.ok<{ acks: Ack[] }>('GET', `/nodes/${nodeId}`);
        return d.acks.find((a) => a.assignmentId === taskId && a.generation === generation);
      },
      20_000,
      100,
      `ack of ${taskId} generation ${generation}`,
    );

  beforeAll(async () => {
    x = await Exchange.start({ rows: ROWS });
    tok['admin'] = x.central.adminToken;
    tok['li'] = (
      await json<{ token: string }>('admin', ['user', 'create', '--name', 'li', '--role', 'officer', '--dept', 'gat'])
    ).token;
    tok['wang'] = (
      await json<{ token: string }>('admin', ['user', 'create', '--name', 'wang', '--role', 'officer', '--dept', 'mzj'])
    ).token;
  });
  afterAll(async () => {
    await x?.stop();
  });

  it('catalog e2e - a conditional resource reaches the consumer with only the approved fields, masked as cataloged', async () => {
    // 公安厅's officer catalogs the population table behind its guarded binding and publishes it.
    await json('li', [
      'catalog',
      'create',
      '--code',
      'R-POP',
      '--name',
      '人口基础信息',
      '--dept',
      'gat',
      '--share-type',
      'conditional',
      '--conditions',
      '仅用于社会救助资格审核',
      '--field',
      'id:integer:required',
      '--field',
      'id_no:string:required,sensitive,mask=idcard',
      '--field',
      'name:string:required,sensitive,mask=name',
      '--field',
      'gender:string',
      '--field',
      'birth_date:date',
      '--field',
      'phone:string:sensitive,mask=phone',
      '--field',
      'district:string',
      '--field',
      'address:string:sensitive',
      '--field',
      'updated_at:integer',
      '--methods',
      'database_sync,online_query',
      '--cycle',
      'daily',
      '--binding',
      'guarded',
      '--node',
      x.providerId,
    ]);
    expect((await json<{ status: string }>('li', ['catalog', 'publish', 'R-POP'])).status).toBe('published');
    // 民政局's officer applies for four fields; 公安厅's officer approves.
    const app = await json<{ id: string; status: string }>('wang', [
      'share',
      'apply',
      '--resource',
      'R-POP',
      '--purpose',
      '最低生活保障资格核查',
      '--fields',
      'id,name,gender,district',
    ]);
    expect(app.status).toBe('pending');
    const approved = await json<{ agreement: { id: string; fields: string[] } }>('li', ['share', 'approve', app.id]);
    agreementId = approved.agreement.id;
    expect(approved.agreement.fields).toEqual(['id', 'name', 'gender', 'district']);
    const sub = await json<{ id: string; syncTaskId: string; exchangeTaskId: string }>('wang', [
      'sub',
      'create',
      '--agreement',
      agreementId,
      '--node',
      x.consumerId,
      '--sink',
      'people',
    ]);
    subscriptionId = sub.id;
    // Both agents accept the tasks (the provider's guarded binding checks the agreement and the fields).
    expect((await acked(x.providerId, sub.syncTaskId, 1)).outcome).toBe('applied');
    expect((await acked(x.consumerId, sub.exchangeTaskId, 1)).outcome).toBe('applied');

    await waitFor(() => readSink(x.sinkPath).rows.length === ROWS, 60_000, 200, `${ROWS} rows at the consumer`);
    const sink = readSink(x.sinkPath);
    expect(sink.columns).toEqual(['id', 'name', 'gender', 'district']);
    const src = new Database(x.sourcePath, { readonly: true });
    const source = src.prepare('SELECT id, name, gender, district FROM person ORDER BY id').all() as Record<
      string,
      unknown
    >[];
    src.close();
    expect(sink.rows).toEqual(source.map((s) => ({ ...s, name: mask(s['name'], 'name' as MaskRule) })));
    expect(sink.rows.some((r) => r['name'] === source.find((s) => s['id'] === r['id'])!['name'])).toBe(false);
  });

  it('catalog e2e - revoking the agreement stops the flow while an unconditional control flow from the same table keeps going', async () => {
    // Control: an unconditional resource of two fields from the same table to the consumer's second sink.
    await json('li', [
      'catalog',
      'create',
      '--code',
      'R-DISTRICT',
      '--name',
      '人口分布',
      '--dept',
      'gat',
      '--share-type',
      'unconditional',
      '--field',
      'id:integer:required',
      '--field',
      'district:string',
      '--binding',
      'population',
      '--node',
      x.providerId,
    ]);
    await json('li', ['catalog', 'publish', 'R-DISTRICT']);
    await json('wang', ['sub', 'create', '--resource', 'R-DISTRICT', '--node', x.consumerId, '--sink', 'people2']);
    await waitFor(() => readSink(x.sink2Path).rows.length === ROWS, 60_000, 200, 'control flow caught up');
    expect(readSink(x.sink2Path).columns).toEqual(['id', 'district']);

    const revoked = await xchg('li', ['share', 'revoke', agreementId, '--reason', '核查已结束']);
    expect(revoked.code, revoked.stderr).toBe(0);
    // The tasks are disabled and both agents have applied that within a poll.
    const tasks = (await x.api.ok<Task[]>('GET', '/tasks')).filter((t) => t.subscriptionId === subscriptionId);
    expect(tasks.map((t) => [t.kind, t.enabled])).toEqual([
      ['exchange', false],
      ['sync', false],
    ]);
    for (const t of tasks)
      expect((await acked(t.kind === 'sync' ? x.providerId : x.consumerId, t.id, t.generation)).reason).toBe(
        'disabled',
      );

    const src = new Database(x.sourcePath);
    const now = Date.now();
    const ins = src.prepare(
      "INSERT INTO person (id, id_no, name, gender, birth_date, phone, district, address, updated_at, deleted) VALUES (?, '36010219900101123X', '新增', '男', '1990-01-01', '13800000000', '南昌市东湖区', '地址', ?, 0)",
    );
    for (let i = 1; i <= 5; i++) ins.run(ROWS + i, now + i);
    src.close();
    // The control flow delivers the new rows; by then the revoked flow would have too, had it been running.
    await waitFor(
      () => readSink(x.sink2Path).rows.length === ROWS + 5,
      30_000,
      100,
      'new rows through the control flow',
    );
    const sink = readSink(x.sinkPath);
    expect(sink.rows.length).toBe(ROWS);
    expect(sink.rows.filter((r) => (r['id'] as number) > ROWS)).toEqual([]);
    const subs = await json<{ id: string; status: string; stopReason: string }[]>('wang', [
      'sub',
      'list',
      '--resource',
      'R-POP',
    ]);
    expect(subs.map((s) => [s.id, s.status])).toEqual([[subscriptionId, 'stopped']]);
    expect(subs[0]!.stopReason).toBe(`agreement ${agreementId} revoked: 核查已结束`);
  });

  it('catalog e2e - central refuses tasks that would move the conditional resource without an active agreement', async () => {
    const base = {
      name: 'side-door',
      kind: 'sync',
      nodeId: x.providerId,
      peerNodeId: x.consumerId,
      subscriptionId: 'sub-side',
      binding: 'guarded',
      resourceCode: 'R-POP',
    };
    const none = await x.api.call<{ error: { code: string; message: string } }>('POST', '/tasks', {
      ...base,
      params: { fields: [{ name: 'id' }] },
    });
    expect([none.status, none.body.error.message]).toEqual([
      403,
      'params.agreementId: resource R-POP is conditional (有条件共享): its data moves only under an approved agreement',
    ]);
    const revoked = await x.api.call<{ error: { message: string } }>('POST', '/tasks', {
      ...base,
      params: { fields: [{ name: 'id' }], agreementId, allowedFields: ['id'] },
    });
    expect([revoked.status, revoked.body.error.message]).toEqual([
      403,
      `params.agreementId: agreement ${agreementId} is revoked`,
    ]);
    const unnamed = await x.api.call<{ error: { message: string } }>('POST', '/tasks', {
      ...base,
      resourceCode: '',
      params: {},
    });
    expect(unnamed.status).toBe(403);
    expect(unnamed.body.error.message).toMatch(/carries catalog resource R-POP/);
  });

  it('catalog e2e - a rejected application moves nothing', async () => {
    const tasksBefore = (await x.api.ok<Task[]>('GET', '/tasks')).length;
    const app = await json<{ id: string }>('wang', [
      'share',
      'apply',
      '--resource',
      'R-POP',
      '--purpose',
      '再次核查',
      '--fields',
      'id,phone',
    ]);
    const rejected = await json<{ status: string; reason: string; agreementId: string | null }>('li', [
      'share',
      'reject',
      app.id,
      '--reason',
      '联系电话不在共享条件范围内',
    ]);
    expect(rejected).toMatchObject({ status: 'rejected', reason: '联系电话不在共享条件范围内', agreementId: null });
    expect((await json<{ state: string }[]>('wang', ['share', 'agreements'])).map((a) => a.state)).toEqual(['revoked']);
    expect((await x.api.ok<Task[]>('GET', '/tasks')).length).toBe(tasksBefore);
    // Without an active agreement there is no way to subscribe.
    const sub = await xchg('wang', [
      'sub',
      'create',
      '--resource',
      'R-POP',
      '--node',
      x.consumerId,
      '--sink',
      'people',
    ]);
    expect(sub.code).toBe(1);
    expect(sub.stderr).toMatch(
      /^xchg: --agreement: resource R-POP is conditional \(有条件共享\): apply for it and subscribe on the agreement its approval creates\n$/,
    );
    expect(readSink(x.sinkPath).rows.length).toBe(ROWS);
    expect(readSink(x.sinkPath).columns).not.toContain('phone');
  });

  it('catalog e2e - a not-shared resource cannot be applied for; the refusal names its legal basis', async () => {
    await json('li', [
      'catalog',
      'create',
      '--code',
      'R-SECRET',
      '--name',
      '涉密人员名单',
      '--dept',
      'gat',
      '--share-type',
      'not_shared',
      '--legal-basis',
      '《中华人民共和国保守国家秘密法》第十三条',
      '--field',
      'id:integer:required',
    ]);
    await json('li', ['catalog', 'publish', 'R-SECRET']);
    const r = await xchg('wang', ['share', 'apply', '--resource', 'R-SECRET', '--purpose', '核查']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      'xchg: --resource: resource R-SECRET is not shared (不予共享); legal basis: 《中华人民共和国保守国家秘密法》第十三条\n',
    );
    const s = await xchg('wang', [
      'sub',
      'create',
      '--resource',
      'R-SECRET',
      '--node',
      x.consumerId,
      '--sink',
      'people',
    ]);
    expect(s.code).toBe(1);
    expect(s.stderr).toMatch(/legal basis: 《中华人民共和国保守国家秘密法》第十三条/);
    expect(await json('wang', ['share', 'list', '--resource', 'R-SECRET'])).toEqual([]);
  });

  it('catalog e2e - every delivery is in the audit log with provider, consumer, resource and records, and the chain verifies', async () => {
    const delivered = await waitFor(
      async () => {
        const entries = await json<
          { departmentCode: string; peerDepartmentCode: string; details: { records: number; subscriptionId: string } }[]
        >('admin', ['audit', 'list', '--action', 'batch.delivered', '--resource', 'R-POP']);
        return entries.reduce((n, e) => n + e.details.records, 0) === ROWS && entries;
      },
      30_000,
      200,
      'batch.delivered entries for every row of R-POP',
    );
    expect(
      delivered.every(
        (e) =>
          e.departmentCode === 'gat' && e.peerDepartmentCode === 'mzj' && e.details.subscriptionId === subscriptionId,
      ),
    ).toBe(true);
    const verify = await xchg('admin', ['audit', 'verify']);
    expect(verify.code, verify.stderr).toBe(0);
    expect(verify.stdout).toMatch(/^audit chain intact: \d+ entries, head [0-9a-f]{64}\n$/);
    const report = await json<{
      departments: {
        departmentCode: string;
        providedRecords: number;
        usedRecords: number;
        applicationsReceived: number;
        applicationsAnswered: number;
      }[];
    }>('admin', ['report', 'departments', '--since', '1h']);
    const gat = report.departments.find((d) => d.departmentCode === 'gat')!;
    const mzj = report.departments.find((d) => d.departmentCode === 'mzj')!;
    expect(gat).toMatchObject({ applicationsReceived: 2, applicationsAnswered: 2 });
    expect(gat.providedRecords).toBeGreaterThanOrEqual(2 * ROWS + 5);
    expect(mzj.usedRecords).toBeGreaterThanOrEqual(2 * ROWS + 5);
  });
});
