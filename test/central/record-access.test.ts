// Access to record values per role (issue 8, fault 9) through fastify inject() on buildApp(deps) with the
// real services: the quarantine of a provider's sync task and of a consumer's exchange task, task runs and
// report bodies, as each role sees them — raw (and audited), granted (agreement fields, masked), withheld,
// or refused with the reason. Quarantined records arrive as agents report them (ReportService.ingest).
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../../central/src/http/app.js';
import {
  grantedFields,
  grantedRecord,
  maskValue,
  recordAccess,
  withholdValues,
} from '../../central/src/domain/record-access.js';
import { Role } from '../../central/src/domain/roles.js';
import { centralDeps, TEST_ADMIN_TOKEN, type CentralDeps } from '../helpers/central-deps.js';
import { removeTmpDirs } from '../helpers/tmp.js';

interface Res<T> {
  status: number;
  body: T;
  text: string;
}
interface ErrorBody {
  error: { code: string; message: string };
}
interface Quarantined {
  view: string;
  side: string;
  origin: string;
  reason: string;
  field: string;
  columns: string[];
  record: Record<string, unknown> | null;
}
interface AuditEntry {
  actor: string;
  action: string;
  entityType: string;
  entityId: string;
  departmentCode: string;
  peerDepartmentCode: string;
  resourceCode: string;
  details: Record<string, unknown>;
}

const apps: { app: App; d: CentralDeps }[] = [];
afterEach(async () => {
  for (const { app, d } of apps.splice(0)) {
    await app.close();
    d.close();
  }
});
afterAll(removeTmpDirs);

async function call<T = unknown>(
  app: App,
  method: 'GET' | 'POST',
  url: string,
  body?: unknown,
  token: string = TEST_ADMIN_TOKEN,
): Promise<Res<T>> {
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await app.inject({
    method,
    url: `/api/v1${url}`,
    headers,
    ...(body !== undefined && { payload: JSON.stringify(body) }),
  });
  return { status: res.statusCode, body: (res.body ? JSON.parse(res.body) : undefined) as T, text: res.body };
}
async function ok<T = unknown>(
  app: App,
  method: 'GET' | 'POST',
  url: string,
  body?: unknown,
  token?: string,
): Promise<T> {
  const r = await call<T>(app, method, url, body, token);
  if (r.status >= 300) throw new Error(`${method} ${url} → ${r.status} ${r.text}`);
  return r.body;
}

/** The provider's source row, quarantined at the provider because of its malformed updated_at. */
const RAW_ROW = {
  id: 7,
  id_no: '360102199001011234',
  name: '张三丰',
  phone: '13812345678',
  address: '南昌市东湖区八一大道1号',
  updated_at: '2024-13-45 25:61:00',
};
const RAW_REASON = 'field updated_at: expected a date-time, got string "2024-13-45 25:61:00"';
const RAW_ORIGIN = 'cursor:"2024-05-01 10:00:00"';
/** A record the consumer's sink refused; it holds a field outside the grant (phone) and a 64-bit id in wire form. */
const CONSUMER_ROW = {
  id: { $: 'i', v: '9007199254740993' },
  id_no: '360102198505054321',
  name: '李四光',
  phone: '13900001111',
};
const CONSUMER_REASON = 'field name: value too long for type character varying(2): "李四光"';
const RUN_ERROR =
  'source: invalid input syntax for type timestamp: "2024-13-45 25:61:00" (row id_no 360102199001011234)';

interface World {
  app: App;
  d: CentralDeps;
  syncTask: string;
  exchangeTask: string;
  gatNode: string;
  mzjNode: string;
  t: Record<'sheng' | 'op' | 'auditor' | 'nc' | 'jj' | 'li' | 'wang' | 'zhao' | 'qian', string>;
}

/**
 * 南昌市公安局 (gat) provides R-POP (conditional); 南昌市民政局 (mzj) holds an agreement for id, id_no and
 * name (both masked) and subscribes; 人社厅 (rsj) applied and was rejected; 教育厅 (jyt) never applied.
 * The provider quarantined RAW_ROW on the sync task; the consumer quarantined CONSUMER_ROW on its exchange task.
 */
async function world(): Promise<World> {
  const d = centralDeps();
  const app = await buildApp(d.http);
  apps.push({ app, d });
  await ok(app, 'POST', '/regions', { code: '360000', name: '江西省', level: 'province' });
  await ok(app, 'POST', '/regions', { code: '360100', name: '南昌市', level: 'city', parentCode: '360000' });
  await ok(app, 'POST', '/regions', { code: '360400', name: '九江市', level: 'city', parentCode: '360000' });
  for (const [code, name, region] of [
    ['gat', '南昌市公安局', '360100'],
    ['mzj', '南昌市民政局', '360100'],
    ['rsj', '人社厅', '360000'],
    ['jyt', '教育厅', '360000'],
  ] as const)
    await ok(app, 'POST', '/departments', { code, name, regionCode: region });
  const node = async (dept: string): Promise<string> => {
    const { token } = await ok<{ token: string }>(app, 'POST', '/tokens', {
      departmentCode: dept,
      nodeName: `${dept}-01`,
    });
    return d.nodes.enroll({ token, hostname: dept, agentVersion: '0.1.0', labels: {} }).node.id;
  };
  const gatNode = await node('gat');
  const mzjNode = await node('mzj');
  await node('rsj');
  const user = async (body: Record<string, string>): Promise<string> =>
    (await ok<{ token: string }>(app, 'POST', '/users', body)).token;
  const t = {
    sheng: await user({ name: 'sheng', role: 'province_admin' }),
    op: await user({ name: 'op', role: 'operator' }),
    auditor: await user({ name: 'shenji', role: 'auditor' }),
    nc: await user({ name: 'nc', role: 'city_admin', regionCode: '360100' }),
    jj: await user({ name: 'jj', role: 'city_admin', regionCode: '360400' }),
    li: await user({ name: 'li', role: 'officer', departmentCode: 'gat' }),
    wang: await user({ name: 'wang', role: 'officer', departmentCode: 'mzj' }),
    zhao: await user({ name: 'zhao', role: 'officer', departmentCode: 'rsj' }),
    qian: await user({ name: 'qian', role: 'officer', departmentCode: 'jyt' }),
  };
  await ok(
    app,
    'POST',
    '/resources',
    {
      code: 'R-POP',
      name: '人口基础信息',
      providerDepartmentCode: 'gat',
      fields: [
        { name: 'id', type: 'integer', required: true },
        { name: 'id_no', type: 'string', required: true, sensitive: true, mask: 'idcard' },
        { name: 'name', type: 'string', required: true, sensitive: true, mask: 'name' },
        { name: 'phone', type: 'string', sensitive: true, mask: 'phone' },
        { name: 'address', type: 'string', sensitive: true },
        { name: 'updated_at', type: 'datetime' },
      ],
      shareType: 'conditional',
      conditions: '仅用于社会救助资格审核',
      shareMethods: ['database_sync'],
      binding: 'population',
      providerNodeId: gatNode,
    },
    t.li,
  );
  await ok(app, 'POST', '/resources/R-POP/publish', undefined, t.li);
  const granted = await ok<{ id: string }>(
    app,
    'POST',
    '/applications',
    { resourceCode: 'R-POP', purpose: '低保核查', fields: ['id', 'id_no', 'name'] },
    t.wang,
  );
  const { agreement } = await ok<{ agreement: { id: string } }>(
    app,
    'POST',
    `/applications/${granted.id}/approve`,
    {},
    t.li,
  );
  const sub = await ok<{ syncTaskId: string; exchangeTaskId: string }>(
    app,
    'POST',
    '/subscriptions',
    { agreementId: agreement.id, consumerNodeId: mzjNode, sinkBinding: 'people' },
    t.wang,
  );
  const rejected = await ok<{ id: string }>(
    app,
    'POST',
    '/applications',
    { resourceCode: 'R-POP', purpose: '就业补贴核查', fields: ['id', 'id_no', 'name', 'phone'] },
    t.zhao,
  );
  await ok(app, 'POST', `/applications/${rejected.id}/reject`, { reason: '联系电话不在共享条件范围内' }, t.li);

  const at = d.clock();
  d.reports.ingest(gatNode, [
    {
      reportId: 'gat-q1',
      seq: 1,
      observedAtMs: at,
      kind: 'quarantine',
      body: {
        taskId: sub.syncTaskId,
        count: 1,
        byReason: { 'field updated_at': 1 },
        records: [
          {
            id: 1,
            side: 'provider',
            origin: RAW_ORIGIN,
            rowIndex: 3,
            reason: RAW_REASON,
            field: 'updated_at',
            recordJson: JSON.stringify(RAW_ROW),
            createdAtMs: at,
          },
        ],
      },
    },
    {
      reportId: 'gat-r1',
      seq: 2,
      observedAtMs: at,
      kind: 'task_run',
      body: {
        runId: 'run-1',
        taskId: sub.syncTaskId,
        startedAtMs: at - 1000,
        finishedAtMs: at,
        status: 'error',
        records: 0,
        errors: 1,
        error: RUN_ERROR,
      },
    },
  ]);
  d.reports.ingest(mzjNode, [
    {
      reportId: 'mzj-q1',
      seq: 1,
      observedAtMs: at,
      kind: 'quarantine',
      body: {
        taskId: sub.exchangeTaskId,
        count: 1,
        byReason: { 'field name': 1 },
        records: [
          {
            id: 1,
            side: 'consumer',
            origin: 'batch-0001',
            rowIndex: 0,
            reason: CONSUMER_REASON,
            field: 'name',
            recordJson: JSON.stringify(CONSUMER_ROW),
            createdAtMs: at,
          },
        ],
      },
    },
  ]);
  return { app, d, syncTask: sub.syncTaskId, exchangeTask: sub.exchangeTaskId, gatNode, mzjNode, t };
}

const quarantine = (w: World, task: string, token: string): Promise<Res<Quarantined[] & ErrorBody>> =>
  call<Quarantined[] & ErrorBody>(w.app, 'GET', `/tasks/${task}/quarantine`, undefined, token);
const reads = async (w: World): Promise<AuditEntry[]> =>
  ok<AuditEntry[]>(w.app, 'GET', '/audit?action=quarantine.read&limit=10000');

const RAW_VIEW = {
  view: 'raw',
  side: 'provider',
  origin: RAW_ORIGIN,
  reason: RAW_REASON,
  field: 'updated_at',
  columns: ['id', 'id_no', 'name', 'phone', 'address', 'updated_at'],
  record: RAW_ROW,
};
const WITHHELD_VIEW = {
  view: 'withheld',
  side: 'provider',
  origin: 'cursor:…',
  reason: 'field updated_at: expected a date-time, got string "…"',
  field: 'updated_at',
  columns: ['id', 'id_no', 'name', 'phone', 'address', 'updated_at'],
  record: null,
};
const pick = (q: Quarantined): Quarantined => ({
  view: q.view,
  side: q.side,
  origin: q.origin,
  reason: q.reason,
  field: q.field,
  columns: q.columns,
  record: q.record,
});

describe('record access - the quarantine of a provider sync task per role', () => {
  it('record access - province admins and auditors see the raw source row, and each raw read is in the audit log', async () => {
    const w = await world();
    for (const [who, token] of [
      ['admin', TEST_ADMIN_TOKEN],
      ['sheng', w.t.sheng],
      ['shenji', w.t.auditor],
    ] as const) {
      const r = await quarantine(w, w.syncTask, token);
      expect(r.status, who).toBe(200);
      expect(r.body.map(pick)).toEqual([RAW_VIEW]);
    }
    const entries = await reads(w);
    expect(
      entries.map((e) => [
        e.actor,
        e.action,
        e.entityType,
        e.entityId,
        e.departmentCode,
        e.peerDepartmentCode,
        e.resourceCode,
        e.details,
      ]),
    ).toEqual(
      ['admin', 'sheng', 'shenji'].map((actor) => [
        actor,
        'quarantine.read',
        'task',
        w.syncTask,
        'gat',
        'mzj',
        'R-POP',
        { view: 'raw', side: 'provider', nodeId: w.gatNode, records: 1, agentIds: [1] },
      ]),
    );
  });

  it("record access - the provider department's officer sees its own source row raw, audited", async () => {
    const w = await world();
    const r = await quarantine(w, w.syncTask, w.t.li);
    expect(r.status).toBe(200);
    expect(r.body.map(pick)).toEqual([RAW_VIEW]);
    expect((await reads(w)).map((e) => [e.actor, e.entityId])).toEqual([['li', w.syncTask]]);
  });

  it('record access - an operator and a city admin whose region holds the node get the listing without values; nothing is audited', async () => {
    const w = await world();
    for (const token of [w.t.op, w.t.nc]) {
      const r = await quarantine(w, w.syncTask, token);
      expect(r.status).toBe(200);
      expect(r.body.map(pick)).toEqual([WITHHELD_VIEW]);
      expect(r.text).not.toContain('360102199001011234');
      expect(r.text).not.toContain('张三丰');
      expect(r.text).not.toContain('2024-13-45');
    }
    expect(await reads(w)).toEqual([]);
  });

  it('record access - a city admin outside the region, a consumer officer with a masked grant, a rejected applicant and a department with no application are refused', async () => {
    const w = await world();
    const cases: [string, string][] = [
      [w.t.jj, `city_admin jj administers region 360400; task ${w.syncTask} runs on a node outside it`],
      [
        w.t.wang,
        `task ${w.syncTask} is the provider side (sync task) of gat: its quarantine holds the provider's source rows, seen only by gat's officers, province administrators and auditors; officer wang of mzj sees its own side (the exchange task)`,
      ],
      [w.t.zhao, `officer zhao of rsj is not a party to task ${w.syncTask} (gat → mzj)`],
      [w.t.qian, `officer qian of jyt is not a party to task ${w.syncTask} (gat → mzj)`],
    ];
    for (const [token, message] of cases) {
      const r = await quarantine(w, w.syncTask, token);
      expect([r.status, r.body.error]).toEqual([403, { code: 'PERMISSION_DENIED', message }]);
    }
    expect(await reads(w)).toEqual([]);
    const missing = await quarantine(w, 'tsk_nope', w.t.li);
    expect([missing.status, missing.body.error.message]).toEqual([404, 'task "tsk_nope" not found']);
  });
});

describe('record access - the quarantine of a consumer exchange task per role', () => {
  it("record access - the consumer's officer sees only its agreement's fields, masked as cataloged", async () => {
    const w = await world();
    const r = await quarantine(w, w.exchangeTask, w.t.wang);
    expect(r.status).toBe(200);
    expect(r.body.map(pick)).toEqual([
      {
        view: 'granted',
        side: 'consumer',
        origin: 'batch-0001',
        reason: 'field name: value too long for type character varying(2): "…"',
        field: 'name',
        columns: ['id', 'id_no', 'name'],
        record: { id: { $: 'i', v: '9007199254740993' }, id_no: '360***********4321', name: '李*光' },
      },
    ]);
    expect(r.text).not.toContain('13900001111');
    expect(await reads(w)).toEqual([]);
  });

  it("record access - the provider's officer sees the consumer side without values; others as on the provider side", async () => {
    const w = await world();
    const li = await quarantine(w, w.exchangeTask, w.t.li);
    expect(li.body.map(pick)).toEqual([
      {
        view: 'withheld',
        side: 'consumer',
        origin: 'batch-0001',
        reason: 'field name: value too long for type character varying(2): "…"',
        field: 'name',
        columns: ['id', 'id_no', 'name', 'phone'],
        record: null,
      },
    ]);
    const admin = await quarantine(w, w.exchangeTask, w.t.auditor);
    expect(admin.body.map((q) => q.record)).toEqual([CONSUMER_ROW]);
    const zhao = await quarantine(w, w.exchangeTask, w.t.zhao);
    expect([zhao.status, zhao.body.error.message]).toEqual([
      403,
      `officer zhao of rsj is not a party to task ${w.exchangeTask} (gat → mzj)`,
    ]);
    const jj = await quarantine(w, w.exchangeTask, w.t.jj);
    expect(jj.status).toBe(403);
    expect((await reads(w)).map((e) => [e.actor, e.entityId, e.details['side']])).toEqual([
      ['shenji', w.exchangeTask, 'consumer'],
    ]);
  });
});

describe('record access - task runs and report bodies', () => {
  it('record access - run errors keep quoted values only for raw viewers; a consumer may not list the provider side', async () => {
    const w = await world();
    const runs = async (token: string, task = w.syncTask) =>
      call<{ error: string }[] & ErrorBody>(w.app, 'GET', `/tasks/${task}/runs`, undefined, token);
    expect((await runs(w.t.li)).body.map((r) => r.error)).toEqual([RUN_ERROR]);
    expect((await runs(w.t.auditor)).body.map((r) => r.error)).toEqual([RUN_ERROR]);
    expect((await runs(w.t.op)).body.map((r) => r.error)).toEqual([
      'source: invalid input syntax for type timestamp: "…" (row id_no …)',
    ]);
    const wang = await runs(w.t.wang);
    expect(wang.status).toBe(403);
    expect(wang.body.error.message).toBe(
      `task ${w.syncTask} is the provider side (sync task) of gat: its quarantine holds the provider's source rows, seen only by gat's officers, province administrators and auditors; officer wang of mzj sees its own side (the exchange task)`,
    );
    expect((await runs(w.t.wang, w.exchangeTask)).body).toEqual([]);
  });

  it("record access - GET /reports: an officer sees its own nodes' reports without values; operators without values; auditors raw, audited", async () => {
    const w = await world();
    type Rep = {
      reportId: string;
      nodeId: string;
      body: { records?: Record<string, unknown>[]; byReason?: Record<string, number>; error?: string };
    };
    const wang = await ok<Rep[]>(w.app, 'GET', '/reports?kind=quarantine', undefined, w.t.wang);
    expect(wang.map((r) => r.reportId)).toEqual(['mzj-q1']);
    expect(wang[0]!.body.records).toEqual([
      {
        id: 1,
        side: 'consumer',
        origin: 'batch-0001',
        rowIndex: 0,
        reason: 'field name: value too long for type character varying(2): "…"',
        field: 'name',
        createdAtMs: w.d.clock(),
        columns: ['id', 'id_no', 'name', 'phone'],
        values: 'withheld',
      },
    ]);
    const op = await ok<Rep[]>(w.app, 'GET', '/reports', undefined, w.t.op);
    expect(op.map((r) => r.reportId).sort()).toEqual(['gat-q1', 'gat-r1', 'mzj-q1']);
    expect(JSON.stringify(op)).not.toMatch(/360102199001011234|张三丰|李四光|13812345678|2024-13-45/);
    expect(op.find((r) => r.reportId === 'gat-r1')!.body.error).toBe(
      'source: invalid input syntax for type timestamp: "…" (row id_no …)',
    );
    expect(await reads(w)).toEqual([]);

    const auditor = await ok<Rep[]>(w.app, 'GET', '/reports?kind=quarantine', undefined, w.t.auditor);
    expect(auditor.find((r) => r.reportId === 'gat-q1')!.body.records![0]!['recordJson']).toBe(JSON.stringify(RAW_ROW));
    expect((await reads(w)).map((e) => [e.actor, e.entityType, e.details])).toEqual([
      ['shenji', 'reports', { view: 'raw', via: 'reports', records: 2, reports: ['mzj-q1', 'gat-q1'] }],
    ]);
  });
});

describe('record access - the pure rules', () => {
  it('record access - withholdValues takes quoted values, typed values, key details and long digit runs out of text', () => {
    expect(withholdValues('field id: expected an integer, got number 12.5')).toBe(
      'field id: expected an integer, got number …',
    );
    expect(
      withholdValues(
        'duplicate key value violates unique constraint "person_pkey": Key (id_no)=(36010219900101123X) already exists',
      ),
    ).toBe('duplicate key value violates unique constraint "…": Key (id_no)=(…) already exists');
    expect(withholdValues("invalid input value for enum sex: 'x'")).toBe("invalid input value for enum sex: '…'");
    expect(withholdValues('phone 13812345678 and id 36010219900101123x')).toBe('phone … and id …');
    expect(withholdValues('record larger than 65536 bytes')).toBe('record larger than 65536 bytes');
  });

  it('record access - grants come from the subscription and the resource; masks from the resource; wire values masked as text', () => {
    const resourceFields = [
      { name: 'id', sensitive: false },
      { name: 'sfzh', sensitive: true, mask: 'idcard' },
      { name: 'dz', sensitive: true },
    ];
    const g = grantedFields({ subscriptionFields: ['id', 'sfzh', 'dz', 'gone'], params: {}, resourceFields });
    expect(g).toEqual([{ name: 'id' }, { name: 'sfzh', mask: 'idcard' }, { name: 'dz', mask: 'redact' }]);
    expect(grantedRecord({ dz: '八一大道1号', id: 1, sfzh: '360102199001011234', xm: '张三' }, g)).toEqual({
      id: 1,
      sfzh: '360***********1234',
      dz: '***',
    });
    // A task outside the catalog: its params' published names and masks.
    expect(
      grantedFields({ params: { fields: [{ name: 'id_no', as: 'sfzh', mask: 'idcard' }, { name: 'n' }] } }),
    ).toEqual([{ name: 'sfzh', mask: 'idcard' }, { name: 'n' }]);
    expect(maskValue({ $: 'n', v: '123456.78' }, 'keep:1:1')).toBe('1*******8');
    expect(maskValue({ $: 'b', v: 'AAEC' }, 'keep:1:1')).toBe('***');
    expect(maskValue(null, 'name')).toBe(null);
  });

  it('record access - the access rule per role and side', () => {
    const sync = {
      taskId: 't1',
      kind: 'sync' as const,
      nodeDepartmentCode: 'gat',
      peerDepartmentCode: 'mzj',
      inCallerRegion: false,
    };
    const exch = { ...sync, kind: 'exchange' as const, nodeDepartmentCode: 'mzj', peerDepartmentCode: 'gat' };
    const officer = (d: string) => ({ name: 'o', role: Role.OFFICER, departmentCode: d });
    expect(recordAccess(officer('gat'), sync)).toEqual({ view: 'raw' });
    expect(recordAccess(officer('mzj'), exch)).toEqual({ view: 'granted' });
    expect(recordAccess(officer('gat'), exch)).toEqual({ view: 'withheld' });
    expect(recordAccess(officer('mzj'), sync).view).toBe('refused');
    expect(
      recordAccess({ name: 'c', role: Role.CITY_ADMIN, regionCode: '360100' }, { ...sync, inCallerRegion: true }),
    ).toEqual({ view: 'withheld' });
    expect(recordAccess({ name: 'a', role: Role.AUDITOR }, exch)).toEqual({ view: 'raw' });
    expect(recordAccess({ name: 'p', role: Role.OPERATOR }, sync)).toEqual({ view: 'withheld' });
  });
});
