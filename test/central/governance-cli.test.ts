// The governance nouns of the `xchg` CLI (user, catalog, share, sub, objection, audit, report) as people
// run them: the built binary against a real central process, with officers' own tokens; two nodes are
// enrolled over real gRPC so subscriptions have somewhere to go. Ends by tampering with central.db and
// watching `xchg audit verify` name the row.
import * as grpc from '@grpc/grpc-js';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadXchgV1, type AgentServiceClient, type EnrollResponse__Output } from '../../proto/index.js';
import { CentralProcess } from '../helpers/central.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { removeTmpDirs } from '../helpers/tmp.js';

function unary<T>(fn: (cb: grpc.requestCallback<T>) => unknown): Promise<T> {
  return new Promise((resolve, reject) => {
    fn((err, value) => (err ? reject(err) : resolve(value as T)));
  });
}

describe('cli governance - catalog, sharing, audit and evaluation through xchg', () => {
  let central: CentralProcess;
  let agent: AgentServiceClient;
  const node: Record<string, string> = {};
  /** Tokens: the admin's, and officers of 公安厅 (li) and 民政局 (wang). */
  const tok: Record<string, string> = {};

  const xchg = (as: string, args: string[]): Promise<CliResult> =>
    runCli(args, { XCHG_SERVER: central.url, XCHG_TOKEN: tok[as] });
  async function json<T>(as: string, args: string[]): Promise<T> {
    const r = await xchg(as, [...args, '-o', 'json']);
    if (r.code !== 0) throw new Error(`xchg ${args.join(' ')} → ${r.code}: ${r.stderr}`);
    expect(r.stderr).toBe('');
    return JSON.parse(r.stdout) as T;
  }
  /** A refusal: exit 1, nothing on stdout, one line on stderr. */
  async function fails(as: string, args: string[], code = 1): Promise<string> {
    const r = await xchg(as, args);
    expect(r.code, r.stderr).toBe(code);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^xchg: [^\n]+\n$/);
    return r.stderr.trimEnd();
  }

  beforeAll(async () => {
    central = await CentralProcess.start({ heartbeatTtlMs: 600_000 });
    tok['admin'] = central.adminToken;
    for (const args of [
      ['region', 'create', '--code', '360000', '--name', '江西省', '--level', 'province'],
      ['region', 'create', '--code', '360100', '--name', '南昌市', '--level', 'city', '--parent', '360000'],
      ['dept', 'create', '--code', 'gat', '--name', '公安厅', '--region', '360000'],
      ['dept', 'create', '--code', 'mzj', '--name', '南昌市民政局', '--region', '360100'],
    ]) {
      const r = await xchg('admin', args);
      if (r.code !== 0) throw new Error(`xchg ${args.join(' ')} → ${r.code}: ${r.stderr}`);
    }
    agent = new (loadXchgV1().AgentService)(central.grpcAddress, grpc.credentials.createInsecure());
    for (const dept of ['gat', 'mzj']) {
      const issued = await json<{ token: string }>('admin', [
        'token',
        'create',
        '--dept',
        dept,
        '--node',
        `${dept}-01`,
      ]);
      const e = await unary<EnrollResponse__Output>((cb) =>
        agent.Enroll({ token: issued.token, hostname: dept, agentVersion: '0.1.0', labels: {} }, cb),
      );
      node[dept] = e.nodeId;
    }
  });

  afterAll(async () => {
    agent?.close();
    await central?.stop();
    removeTmpDirs();
  });

  it('cli governance - user create prints only the token; whoami and list show role and scope', async () => {
    const r = await xchg('admin', ['user', 'create', '--name', 'li', '--role', 'officer', '--dept', 'gat']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^xut_[A-Za-z0-9_-]+\n$/);
    expect(r.stderr).toMatch(/user li \(officer, id usr-[0-9a-f]+\) created; the token is not shown again/);
    tok['li'] = r.stdout.trim();
    tok['wang'] = (
      await json<{ token: string }>('admin', ['user', 'create', '--name', 'wang', '--role', 'officer', '--dept', 'mzj'])
    ).token;
    const me = await xchg('li', ['user', 'whoami']);
    expect(me.stdout).toMatch(/^Role\s+officer$/m);
    expect(me.stdout).toMatch(/^Scope\s+公安厅 \(gat\)$/m);
    const users = await json<{ name: string; role: string }[]>('admin', ['user', 'list']);
    expect(users.map((u) => [u.name, u.role])).toEqual([
      ['li', 'officer'],
      ['wang', 'officer'],
    ]);
    expect(await fails('admin', ['user', 'create', '--name', 'x', '--role', 'officer'])).toBe(
      'xchg: --dept: an officer needs the department it acts for',
    );
    expect(await fails('li', ['user', 'list'])).toMatch(/role officer may not do this/);
  });

  it('cli governance - catalog create parses --field specs, publishes, lists and shows the fields and history', async () => {
    const created = await json<{ code: string; status: string; fields: unknown[] }>('li', [
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
      '仅用于社会救助审核',
      '--field',
      'id:integer:required',
      '--field',
      'id_no:string:required,sensitive,mask=keep:3:4,desc=身份证号, 18 位',
      '--field',
      'xm:string:sensitive,mask=name,column=name',
      '--field',
      'district:string',
      '--methods',
      'database_sync,online_query',
      '--cycle',
      'daily',
      '--binding',
      'population',
      '--node',
      node['gat']!,
    ]);
    expect(created.status).toBe('draft');
    expect(created.fields).toEqual([
      { name: 'id', type: 'integer', description: '', required: true, sensitive: false },
      {
        name: 'id_no',
        type: 'string',
        description: '身份证号, 18 位',
        required: true,
        sensitive: true,
        mask: 'keep:3:4',
      },
      { name: 'xm', column: 'name', type: 'string', description: '', required: false, sensitive: true, mask: 'name' },
      { name: 'district', type: 'string', description: '', required: false, sensitive: false },
    ]);
    const pub = await xchg('li', ['catalog', 'publish', 'R-POP']);
    expect(pub.code).toBe(0);
    expect(pub.stdout).toMatch(/^Status\s+published$/m);
    expect(pub.stdout).toMatch(/^Share type\s+有条件 conditional$/m);
    expect(pub.stdout).toMatch(/^\s+id_no\s+id_no\s+string\s+yes\s+yes \(keep:3:4\)\s+身份证号, 18 位$/m);
    expect(pub.stdout, 'a field published under its own name shows its source column').toMatch(
      /^\s+xm\s+name\s+string\s+no\s+yes \(name\)\s+-$/m,
    );
    const list = await xchg('wang', ['catalog', 'list']);
    expect(list.stdout).toMatch(
      /^CODE\s+NAME\s+PROVIDER\s+SHARE\s+STATUS\s+VER\s+FIELDS\s+METHODS\s+CYCLE\s+UPDATED$/m,
    );
    expect(list.stdout).toMatch(
      /^R-POP\s+人口基础信息\s+公安厅 \(gat\)\s+conditional\s+published\s+1\s+4\s+database_sync,online_query\s+daily\s+/m,
    );
    // Bad input: one line naming the flag; a wrong field spec is a usage error (exit 2).
    expect(
      await fails('li', [
        'catalog',
        'create',
        '--code',
        'R-S',
        '--name',
        '机密',
        '--dept',
        'gat',
        '--share-type',
        'not_shared',
        '--field',
        'id:integer',
      ]),
    ).toBe('xchg: --legal-basis: a not-shared resource (不予共享) states the law or regulation it rests on');
    expect(
      await fails('li', [
        'catalog',
        'create',
        '--code',
        'R-POP',
        '--name',
        'x',
        '--dept',
        'gat',
        '--share-type',
        'unconditional',
        '--field',
        'id:integer',
      ]),
    ).toBe('xchg: resource "R-POP" already exists');
    expect(
      await fails('wang', [
        'catalog',
        'create',
        '--code',
        'R-M',
        '--name',
        'x',
        '--dept',
        'gat',
        '--share-type',
        'unconditional',
        '--field',
        'id:integer',
      ]),
    ).toBe('xchg: officer wang acts for department mzj only, not for gat');
    expect(
      await fails(
        'li',
        [
          'catalog',
          'create',
          '--code',
          'R-T',
          '--name',
          'x',
          '--dept',
          'gat',
          '--share-type',
          'unconditional',
          '--field',
          'id:uuid',
        ],
        2,
      ),
    ).toMatch(/--field.*type "uuid" is not one of/);
  });

  it('cli governance - share apply, list, approve and agreements; sub create gives tasks with only the approved fields', async () => {
    const app = await json<{ id: string; status: string; deadlineAt: number }>('wang', [
      'share',
      'apply',
      '--resource',
      'R-POP',
      '--purpose',
      '低保资格核查',
      '--fields',
      'id,xm,district',
    ]);
    expect(app.status).toBe('pending');
    const pending = await xchg('li', ['share', 'list', '--status', 'pending']);
    expect(pending.stdout).toMatch(
      new RegExp(`^${app.id}\\s+R-POP\\s+南昌市民政局 \\(mzj\\)\\s+公安厅 \\(gat\\)\\s+pending\\s+`, 'm'),
    );
    expect(await fails('wang', ['share', 'approve', app.id])).toBe(
      'xchg: officer wang acts for department mzj only, not for gat',
    );
    const approved = await json<{ agreement: { id: string; fields: string[]; validUntil: number; validFrom: number } }>(
      'li',
      ['share', 'approve', app.id, '--fields', 'id,xm', '--valid-days', '90'],
    );
    expect(approved.agreement.fields).toEqual(['id', 'xm']);
    expect(approved.agreement.validUntil - approved.agreement.validFrom).toBe(90 * 86_400_000);
    const agreements = await json<{ id: string; state: string }[]>('wang', ['share', 'agreements']);
    expect(agreements.map((a) => [a.id, a.state])).toEqual([[approved.agreement.id, 'active']]);
    const s = await json<{ id: string; syncTaskId: string; fields: string[] }>('wang', [
      'sub',
      'create',
      '--agreement',
      approved.agreement.id,
      '--node',
      node['mzj']!,
      '--sink',
      'people',
    ]);
    expect(s.fields).toEqual(['id', 'xm']);
    const task = await json<{
      params: { fields: { name: string; as?: string }[]; agreementId: string; allowedFields: string[] };
      subscriptionId: string;
    }>('admin', ['task', 'get', s.syncTaskId]);
    expect(task.subscriptionId).toBe(s.id);
    // The agent reads the source column (name) and sends it as the published field (xm).
    expect(task.params.fields.map((f) => [f.name, f.as ?? f.name])).toEqual([
      ['id', 'id'],
      ['name', 'xm'],
    ]);
    expect(task.params).toMatchObject({ agreementId: approved.agreement.id, allowedFields: ['id', 'xm'] });
    const subs = await xchg('wang', ['sub', 'list']);
    expect(subs.stdout).toMatch(
      new RegExp(
        `^${s.id}\\s+R-POP\\s+南昌市民政局 \\(mzj\\)\\s+${node['mzj']}\\s+people\\s+${approved.agreement.id}\\s+active\\s+`,
        'm',
      ),
    );

    // Reject needs --reason (usage error), revoke stops the subscription.
    const second = await json<{ id: string }>('wang', [
      'share',
      'apply',
      '--resource',
      'R-POP',
      '--purpose',
      '再次核查',
    ]);
    expect(await fails('li', ['share', 'reject', second.id], 2)).toMatch(
      /required option '--reason <text>' not specified/,
    );
    const rejected = await json<{ status: string; reason: string }>('li', [
      'share',
      'reject',
      second.id,
      '--reason',
      '与已批准申请重复',
    ]);
    expect(rejected).toMatchObject({ status: 'rejected', reason: '与已批准申请重复' });
    const revoked = await xchg('li', ['share', 'revoke', approved.agreement.id, '--reason', '核查结束']);
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toMatch(/^State\s+revoked$/m);
    expect((await json<{ status: string }[]>('wang', ['sub', 'list']))[0]!.status).toBe('stopped');
    expect((await json<{ enabled: boolean }>('admin', ['task', 'get', s.syncTaskId])).enabled).toBe(false);
  });

  it('cli governance - a not-shared resource cannot be applied for, and the refusal names its legal basis', async () => {
    await json('li', [
      'catalog',
      'create',
      '--code',
      'R-SECRET',
      '--name',
      '涉密人员',
      '--dept',
      'gat',
      '--share-type',
      'not_shared',
      '--legal-basis',
      '《中华人民共和国保守国家秘密法》',
      '--field',
      'id:integer',
    ]);
    await json('li', ['catalog', 'publish', 'R-SECRET']);
    expect(await fails('wang', ['share', 'apply', '--resource', 'R-SECRET', '--purpose', '核查'])).toBe(
      'xchg: --resource: resource R-SECRET is not shared (不予共享); legal basis: 《中华人民共和国保守国家秘密法》',
    );
    expect(await fails('wang', ['share', 'apply', '--resource', 'R-NOPE', '--purpose', '核查'])).toBe(
      'xchg: --resource: resource "R-NOPE" not found',
    );
  });

  it('cli governance - catalog update makes version 2 and the subscribed consumer gets a notice; objections go round', async () => {
    await json('li', [
      'catalog',
      'create',
      '--code',
      'R-OPEN',
      '--name',
      '行政区划',
      '--dept',
      'gat',
      '--share-type',
      'unconditional',
      '--field',
      'id:integer:required',
      '--field',
      'district:string',
      '--binding',
      'districts',
      '--node',
      node['gat']!,
    ]);
    await json('li', ['catalog', 'publish', 'R-OPEN']);
    await json('wang', ['sub', 'create', '--resource', 'R-OPEN', '--node', node['mzj']!, '--sink', 'districts']);
    const v2 = await json<{ version: number }>('li', [
      'catalog',
      'update',
      'R-OPEN',
      '--cycle',
      'monthly',
      '--note',
      '改为每月更新',
    ]);
    expect(v2.version).toBe(2);
    const versions = await xchg('wang', ['catalog', 'versions', 'R-OPEN']);
    expect(versions.stdout).toMatch(/^\s+2\s+\S+ \S+\s+li\s+updateCycle\s+改为每月更新$/m);
    const notices = await json<{ departmentCode: string; kind: string; version: number }[]>('wang', [
      'catalog',
      'notices',
    ]);
    expect(notices.map((n) => [n.departmentCode, n.kind, n.version])).toEqual([['mzj', 'resource.changed', 2]]);

    const o = await json<{ id: string; status: string }>('wang', [
      'objection',
      'raise',
      '--resource',
      'R-OPEN',
      '--key',
      'id=3',
      '--note',
      '区划名称已变更',
    ]);
    expect(o.status).toBe('open');
    const answered = await json<{ status: string; result: string }>('li', [
      'objection',
      'answer',
      o.id,
      '--result',
      'corrected',
      '--note',
      '已按最新区划更正',
    ]);
    expect(answered).toMatchObject({ status: 'answered', result: 'corrected' });
    const list = await xchg('admin', ['objection', 'list']);
    expect(list.stdout).toMatch(
      new RegExp(
        `^${o.id}\\s+R-OPEN\\s+id=3\\s+南昌市民政局 \\(mzj\\)\\s+公安厅 \\(gat\\)\\s+\\S+ \\S+\\s+answered: corrected\\s+`,
        'm',
      ),
    );
  });

  it('cli governance - audit list filters by department and resource; report departments and regions answer -o json', async () => {
    const entries = await json<{ action: string; resourceCode: string }[]>('admin', [
      'audit',
      'list',
      '--resource',
      'R-POP',
    ]);
    expect(entries.map((e) => e.action)).toEqual([
      'resource.create',
      'resource.publish',
      'application.submit',
      'application.approve',
      'agreement.create',
      'task.create',
      'task.create',
      'subscription.create',
      'application.submit',
      'application.reject',
      'agreement.revoke',
      'task.update',
      'task.update',
      'subscription.stop',
    ]);
    expect(await json('admin', ['audit', 'list', '--since', '1h', '--until', '2000-01-01'])).toEqual([]);
    const table = await xchg('admin', ['audit', 'list', '--action', 'application.reject']);
    expect(table.stdout).toMatch(
      /^\s*\d+\s+\S+ \S+\s+li\s+application\.reject\s+app-[0-9a-f]+\s+gat -> mzj\s+R-POP\s+reason=与已批准申请重复/m,
    );
    const depts = await json<{
      period: { since: number; until: number };
      departments: {
        departmentCode: string;
        applicationsReceived: number;
        applicationsAnswered: number;
        resourcesPublished: number;
      }[];
    }>('admin', ['report', 'departments', '--since', '1d']);
    expect(
      depts.departments.map((d) => [
        d.departmentCode,
        d.resourcesPublished,
        d.applicationsReceived,
        d.applicationsAnswered,
      ]),
    ).toEqual([
      ['gat', 3, 2, 2],
      ['mzj', 0, 0, 0],
    ]);
    const regions = await json<{ regions: { regionCode: string; nodes: number }[] }>('admin', ['report', 'regions']);
    expect(regions.regions.map((r) => [r.regionCode, r.nodes])).toEqual([
      ['360000', 2],
      ['360100', 1],
    ]);
    const text = await xchg('admin', ['report', 'departments']);
    expect(text.stdout).toMatch(/^公安厅 \(gat\)\s+3\s+2\s+2\s+100\.0 %\s+0\s+0\s+0\/0\s+0\/0\s+0\/0\s+1\/1$/m);
    expect(text.stderr).toMatch(/^period \S+ \S+ – \S+ \S+$/m);
  });

  it('cli governance - audit verify passes, then names the row tampered with in central.db', async () => {
    const ok = await xchg('admin', ['audit', 'verify']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^audit chain intact: \d+ entries, head [0-9a-f]{64}$/m);
    const target = (await json<{ seq: number }[]>('admin', ['audit', 'list', '--action', 'application.approve']))[0]!;
    const db = new Database(join(central.dataDir, 'central.db'));
    db.exec('DROP TRIGGER audit_log_no_update');
    db.prepare(
      'UPDATE audit_log SET details_json = replace(details_json, \'"id","xm"\', \'"id","xm","id_no"\') WHERE seq = ?',
    ).run(target.seq);
    expect(
      (db.prepare('SELECT details_json FROM audit_log WHERE seq = ?').get(target.seq) as { details_json: string })
        .details_json,
    ).toContain('id_no');
    db.close();
    const broken = await xchg('admin', ['audit', 'verify']);
    expect(broken.code).toBe(1);
    expect(broken.stdout).toBe('');
    expect(broken.stderr).toBe(
      `xchg: audit chain broken at entry ${target.seq}: hash does not match the entry's content (the entry was changed after it was written)\n`,
    );
    const asJson = await xchg('admin', ['audit', 'verify', '-o', 'json']);
    expect(asJson.code).toBe(1);
    expect(JSON.parse(asJson.stdout)).toMatchObject({ ok: false, firstBroken: { seq: target.seq } });
  });
});
