// Refused tasks and quarantined personal data end to end with real processes (nats-server, central, a
// provider and a consumer agent), seen through the `xchg` CLI as users see them (issue 8, faults 11 and 9):
// a task the provider's agent refuses shows as refused, with the node and the reason, on the subscription
// and the task, and raises a task_refused alert; fixing the agent's config and re-applying clears it and
// the data flows.
// A row the provider quarantines is shown raw to the provider's officer (audited) and refused to others.
import Database from 'better-sqlite3';
import { readFileSync, writeFileSync } from 'node:fs';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliResult } from '../helpers/cli.js';
import { Exchange } from '../helpers/exchange.js';
import { waitFor } from '../helpers/wait-for.js';

const ROWS = 50;

interface Refusal {
  taskId: string;
  kind: string;
  nodeId: string;
  generation: number;
  reason: string;
  at: number;
}
interface Sub {
  id: string;
  status: string;
  state: string;
  refusals: Refusal[];
  syncTaskId: string;
  exchangeTaskId: string;
}
interface Task {
  id: string;
  state: string;
  enabled: boolean;
  generation: number;
  refusal: Refusal | null;
}
interface Alert {
  kind: string;
  entityId: string;
  departmentCode: string;
  message: string;
}
interface Quarantined {
  view: string;
  side: string;
  reason: string;
  field: string;
  columns: string[];
  record: Record<string, unknown> | null;
}

function sinkRows(path: string): Record<string, unknown>[] {
  try {
    const db = new Database(path, { readonly: true, fileMustExist: true });
    try {
      return db.prepare('SELECT * FROM person ORDER BY id').all() as Record<string, unknown>[];
    } finally {
      db.close();
    }
  } catch {
    return [];
  }
}

describe('refusals e2e - refused tasks and quarantined records as users see them', () => {
  let x: Exchange;
  const tok: Record<string, string> = {};

  const xchg = (as: string, args: string[]): Promise<CliResult> =>
    runCli(args, { XCHG_SERVER: x.central.url, XCHG_TOKEN: tok[as] });
  async function json<T>(as: string, args: string[]): Promise<T> {
    const r = await xchg(as, [...args, '-o', 'json']);
    if (r.code !== 0) throw new Error(`xchg ${args.join(' ')} → ${r.code}: ${r.stderr}`);
    return JSON.parse(r.stdout) as T;
  }

  beforeAll(async () => {
    x = await Exchange.start({ rows: ROWS });
    await x.api.seedDepartment('rsj');
    tok['admin'] = x.central.adminToken;
    const user = async (args: string[]): Promise<string> =>
      (await json<{ token: string }>('admin', ['user', 'create', ...args])).token;
    tok['li'] = await user(['--name', 'li', '--role', 'officer', '--dept', 'gat']);
    tok['wang'] = await user(['--name', 'wang', '--role', 'officer', '--dept', 'mzj']);
    tok['zhao'] = await user(['--name', 'zhao', '--role', 'officer', '--dept', 'rsj']);
    tok['op'] = await user(['--name', 'op', '--role', 'operator']);
  });
  afterAll(async () => {
    await x?.stop();
  });

  it('refusals e2e - a binding the agent lacks: the subscription and the task read refused with node and reason, an alert is raised; fixing the config clears it', async () => {
    // 公安厅's officer catalogs a table under a binding its agent's config does not have (yet).
    await json('li', [
      'catalog',
      'create',
      '--code',
      'R-ADDR',
      '--name',
      '地址分布',
      '--dept',
      'gat',
      '--share-type',
      'unconditional',
      '--field',
      'id:integer:required',
      '--field',
      'district:string',
      '--binding',
      'addresses',
      '--node',
      x.providerId,
    ]);
    await json('li', ['catalog', 'publish', 'R-ADDR']);
    const created = await json<Sub>('wang', [
      'sub',
      'create',
      '--resource',
      'R-ADDR',
      '--node',
      x.consumerId,
      '--sink',
      'people2',
    ]);
    expect([created.state, created.refusals]).toEqual(['pending', []]);

    const reason = 'binding addresses: no such source in this agent config (sources:)';
    const sub = await waitFor(
      async () => {
        const s = await json<Sub>('wang', ['sub', 'get', created.id]);
        return s.state === 'refused' && s;
      },
      30_000,
      200,
      'the subscription reads refused',
    );
    expect(sub.status).toBe('active');
    expect(sub.refusals.map(({ at: _at, ...r }) => r)).toEqual([
      { taskId: created.syncTaskId, kind: 'sync', nodeId: x.providerId, generation: 1, reason },
    ]);
    expect(
      (await json<Sub[]>('wang', ['sub', 'list', '--resource', 'R-ADDR'])).map((s) => [
        s.id,
        s.state,
        s.refusals.map((r) => r.reason),
      ]),
    ).toEqual([[created.id, 'refused', [reason]]]);

    const task = await json<Task>('admin', ['task', 'get', created.syncTaskId]);
    expect([task.enabled, task.state, task.refusal?.nodeId, task.refusal?.reason]).toEqual([
      true,
      'refused',
      x.providerId,
      reason,
    ]);
    expect((await json<Task>('admin', ['task', 'get', created.exchangeTaskId])).state).toBe('applied');
    const listed = await json<Task[]>('admin', ['task', 'list', '--node', x.providerId]);
    expect(listed.filter((t) => t.id === created.syncTaskId).map((t) => t.state)).toEqual(['refused']);
    // No runs, and the table says why instead of leaving an empty list.
    expect(await json('admin', ['task', 'runs', created.syncTaskId])).toEqual([]);
    const runs = await xchg('admin', ['task', 'runs', created.syncTaskId]);
    expect(runs.code).toBe(0);
    expect(runs.stderr).toMatch(
      new RegExp(
        `^task ${created.syncTaskId} does not run: refused by node ${x.providerId} at generation 1 \\(.+\\): binding addresses: no such source in this agent config \\(sources:\\)\\nno runs found\\n$`,
      ),
    );

    const alerts = await json<Alert[]>('admin', ['share', 'alerts', '--kind', 'task_refused']);
    expect(
      alerts.map(({ kind, entityId, departmentCode, message }) => ({ kind, entityId, departmentCode, message })),
    ).toEqual([
      {
        kind: 'task_refused',
        entityId: `${created.syncTaskId}@1`,
        departmentCode: 'gat',
        message: `node gat-01 (${x.providerId}) of gat refused sync task ${created.syncTaskId} of resource R-ADDR, subscription ${created.id} at generation 1: ${reason}`,
      },
    ]);
    // The provider's officer sees its department's alarm too.
    expect((await json<Alert[]>('li', ['share', 'alerts'])).map((a) => a.entityId)).toContain(
      `${created.syncTaskId}@1`,
    );

    // The department's IT staff add the binding to the agent's config and restart it: the agent resumes its
    // held set, now applies the task, and acknowledges that (same generation), which clears the refusal.
    await x.provider.stop();
    const cfg = parse(readFileSync(x.provider.configFile, 'utf8')) as { sources: Record<string, unknown> };
    cfg.sources['addresses'] = {
      type: 'sqlite',
      path: x.sourcePath,
      table: 'person',
      key: 'id',
      cursor: 'updated_at',
      deleted: 'deleted',
    };
    writeFileSync(x.provider.configFile, stringify(cfg));
    await x.provider.restart();
    const fixed = await waitFor(
      async () => {
        const s = await json<Sub>('wang', ['sub', 'get', created.id]);
        return s.state === 'active' && s;
      },
      30_000,
      200,
      'the subscription reads active after the fix',
    );
    expect(fixed.refusals).toEqual([]);
    const after = await json<Task>('admin', ['task', 'get', created.syncTaskId]);
    expect([after.state, after.refusal, after.generation]).toEqual(['applied', null, 1]);
    await waitFor(() => sinkRows(x.sink2Path).length === ROWS, 60_000, 200, `${ROWS} rows through the fixed flow`);
    const src = new Database(x.sourcePath, { readonly: true });
    const source = src.prepare('SELECT id, district FROM person ORDER BY id').all();
    src.close();
    expect(sinkRows(x.sink2Path)).toEqual(source);
    // The alarm stays as the record of what happened.
    expect(
      (await json<Alert[]>('admin', ['share', 'alerts', '--kind', 'task_refused'])).map((a) => a.entityId),
    ).toEqual([`${created.syncTaskId}@1`]);
  });

  it('refusals e2e - an unconditional resource on a source that shares only under an agreement is refused by the provider and says so', async () => {
    await json('li', [
      'catalog',
      'create',
      '--code',
      'R-GUARD',
      '--name',
      '人口（受控）',
      '--dept',
      'gat',
      '--share-type',
      'unconditional',
      '--field',
      'id:integer:required',
      '--binding',
      'guarded',
      '--node',
      x.providerId,
    ]);
    await json('li', ['catalog', 'publish', 'R-GUARD']);
    const created = await json<Sub>('wang', [
      'sub',
      'create',
      '--resource',
      'R-GUARD',
      '--node',
      x.consumerId,
      '--sink',
      'people2',
    ]);
    const sub = await waitFor(
      async () => {
        const s = await json<Sub>('wang', ['sub', 'get', created.id]);
        return s.state === 'refused' && s;
      },
      30_000,
      200,
      'the subscription reads refused',
    );
    const reason = 'binding guarded shares only under an agreement, and this task carries none';
    expect(sub.refusals.map((r) => [r.taskId, r.nodeId, r.reason])).toEqual([
      [created.syncTaskId, x.providerId, reason],
    ]);
    expect((await json<Task>('wang', ['task', 'get', created.syncTaskId])).refusal?.reason).toBe(reason);
    const alert = (await json<Alert[]>('admin', ['share', 'alerts', '--kind', 'task_refused'])).find(
      (a) => a.entityId === `${created.syncTaskId}@1`,
    );
    expect(alert?.message).toBe(
      `node gat-01 (${x.providerId}) of gat refused sync task ${created.syncTaskId} of resource R-GUARD, subscription ${created.id} at generation 1: ${reason}`,
    );
    const table = await xchg('wang', ['sub', 'get', created.id]);
    expect(table.stdout).toMatch(
      new RegExp(`^Refused +sync task ${created.syncTaskId} refused by node ${x.providerId} at generation 1 `, 'm'),
    );
    expect(table.stdout).toContain(reason);
  });

  it("refusals e2e - a quarantined source row: raw for the provider's officer (audited), withheld for an operator, refused to the consumer and to another department", async () => {
    await json('li', [
      'catalog',
      'create',
      '--code',
      'R-BIRTH',
      '--name',
      '出生日期',
      '--dept',
      'gat',
      '--share-type',
      'unconditional',
      '--field',
      'id:integer:required',
      '--field',
      'id_no:string:required,sensitive,mask=idcard',
      '--field',
      'name:string:required,sensitive,mask=name',
      '--field',
      'birth_date:date',
      '--binding',
      'population',
      '--node',
      x.providerId,
    ]);
    await json('li', ['catalog', 'publish', 'R-BIRTH']);
    const sub = await json<Sub>('wang', [
      'sub',
      'create',
      '--resource',
      'R-BIRTH',
      '--node',
      x.consumerId,
      '--sink',
      'people',
    ]);
    const src = new Database(x.sourcePath);
    src
      .prepare(
        "INSERT INTO person (id, id_no, name, gender, birth_date, phone, district, address, updated_at, deleted) VALUES (1001, '360102199001011234', '张三丰', '男', '1990/01/01', '13812345678', '南昌市东湖区', '八一大道1号', ?, 0)",
      )
      .run(Date.now());
    src.close();
    const raw = await waitFor(
      async () => {
        const q = await json<Quarantined[]>('li', ['task', 'quarantine', sub.syncTaskId]);
        return q.length > 0 && q;
      },
      60_000,
      300,
      'the bad row quarantined and reported',
    );
    expect(raw.length).toBe(1);
    expect([raw[0]!.view, raw[0]!.side, raw[0]!.field]).toEqual(['raw', 'provider', 'birth_date']);
    expect(raw[0]!.reason).toMatch(/birth_date/);
    expect(raw[0]!.record).toMatchObject({
      id: 1001,
      id_no: '360102199001011234',
      name: '张三丰',
      birth_date: '1990/01/01',
      phone: '13812345678',
    });
    const reads = await json<{ actor: string; entityId: string; details: { records: number } }[]>('admin', [
      'audit',
      'list',
      '--action',
      'quarantine.read',
    ]);
    expect(reads.map((e) => [e.actor, e.entityId, e.details.records])).toEqual([['li', sub.syncTaskId, 1]]);

    const op = await json<Quarantined[]>('op', ['task', 'quarantine', sub.syncTaskId]);
    expect(op.map((q) => [q.view, q.record, q.field])).toEqual([['withheld', null, 'birth_date']]);
    expect(JSON.stringify(op)).not.toMatch(/360102199001011234|张三丰|13812345678|1990\/01\/01/);

    const wang = await xchg('wang', ['task', 'quarantine', sub.syncTaskId, '-o', 'json']);
    expect([wang.code, wang.stdout]).toEqual([1, '']);
    expect(wang.stderr).toBe(
      `xchg: task ${sub.syncTaskId} is the provider side (sync task) of gat: its quarantine holds the provider's source rows, seen only by gat's officers, province administrators and auditors; officer wang of mzj sees its own side (the exchange task)\n`,
    );
    const zhao = await xchg('zhao', ['task', 'quarantine', sub.syncTaskId, '-o', 'json']);
    expect([zhao.code, zhao.stderr]).toEqual([
      1,
      `xchg: officer zhao of rsj is not a party to task ${sub.syncTaskId} (gat → mzj)\n`,
    ]);
    // The good rows went on: the consumer has every row but the quarantined one, masked.
    await waitFor(() => sinkRows(x.sinkPath).length === ROWS, 60_000, 200, `${ROWS} good rows at the consumer`);
    expect(sinkRows(x.sinkPath).some((r) => r['id'] === 1001)).toBe(false);
  });
});
