// Governance services on a real SQLite file with a hand-moved clock: users, the catalog and its versions,
// applications with working-day deadlines, agreements, subscriptions and the tasks they create, the task
// guard, revocation and expiry, objections, the audit chain (also tampered in the file) and evaluation.
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { Role, type Actor } from '../../central/src/domain/roles.js';
import { ErrorCode } from '../../central/src/errors.js';
import type { ResourceInput } from '../../central/src/services/catalog.js';
import { closingCentralDeps, xchgError, type CentralDeps, type CentralDepsOptions } from '../helpers/central-deps.js';

const deps = closingCentralDeps();

const DAY = 86_400_000;
const ADMIN: Actor = { name: 'admin', role: Role.PROVINCE_ADMIN };
const OPERATOR: Actor = { name: 'op', role: Role.OPERATOR };
/** Officer of the provider (公安厅) and of the consumer (民政局). */
const LI: Actor = { name: 'li', role: Role.OFFICER, departmentCode: 'gat' };
const WANG: Actor = { name: 'wang', role: Role.OFFICER, departmentCode: 'mzj' };

const count = (d: CentralDeps, table: string): number =>
  (d.store.db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
/** Rows of every governance table, to assert that a refused call changed nothing. */
const snapshot = (d: CentralDeps): Record<string, number> =>
  Object.fromEntries(
    [
      'resources',
      'resource_versions',
      'applications',
      'agreements',
      'subscriptions',
      'tasks',
      'notifications',
      'objections',
      'audit_log',
      'users',
    ].map((t) => [t, count(d, t)]),
  );

interface World {
  d: CentralDeps;
  gatNode: string;
  mzjNode: string;
  sbjNode: string;
}

/** Province with a city; 公安厅 (gat, province) provides, 民政局 (mzj, in 南昌市) and 社保局 (sbj) consume; one node each. */
function world(opts: CentralDepsOptions = {}): World {
  const d = deps(opts);
  d.registry.createRegion({ code: '360000', name: '江西省', level: 'province' }, ADMIN);
  d.registry.createRegion({ code: '360100', name: '南昌市', level: 'city', parentCode: '360000' }, ADMIN);
  d.registry.createDepartment({ code: 'gat', name: '公安厅', regionCode: '360000' }, ADMIN);
  d.registry.createDepartment({ code: 'mzj', name: '南昌市民政局', regionCode: '360100' }, ADMIN);
  d.registry.createDepartment({ code: 'sbj', name: '社保局', regionCode: '360000' }, ADMIN);
  const node = (dept: string): string => {
    const { token } = d.nodes.createToken({ departmentCode: dept, nodeName: `${dept}-01` }, ADMIN);
    return d.nodes.enroll({ token, hostname: `${dept}.example`, agentVersion: '0.1.0', labels: {} }).node.id;
  };
  return { d, gatNode: node('gat'), mzjNode: node('mzj'), sbjNode: node('sbj') };
}

const population = (w: World, over: Partial<ResourceInput> = {}): ResourceInput => ({
  code: 'R-POP',
  name: '人口基础信息',
  providerDepartmentCode: 'gat',
  fields: [
    { name: 'id', type: 'integer', required: true },
    { name: 'id_no', type: 'string', required: true, sensitive: true, mask: 'idcard' },
    { name: 'name', type: 'string', required: true, sensitive: true, mask: 'name' },
    { name: 'phone', type: 'string', sensitive: true },
    { name: 'district', type: 'string' },
  ],
  shareType: 'conditional',
  conditions: '仅用于社会救助资格审核',
  shareMethods: ['database_sync', 'online_query'],
  updateCycle: 'daily',
  binding: 'population',
  providerNodeId: w.gatNode,
  ...over,
});

/** Publishes R-POP, has 民政局 apply for id, name and district and 公安厅 approve; returns the ids. */
function approved(w: World): { applicationId: string; agreementId: string } {
  w.d.catalog.create(population(w), LI);
  w.d.catalog.publish('R-POP', LI);
  const app = w.d.sharing.apply(
    { resourceCode: 'R-POP', purpose: '低保资格核查', fields: ['id', 'name', 'district'] },
    WANG,
  );
  const { agreement } = w.d.sharing.approve(app.id, {}, LI);
  return { applicationId: app.id, agreementId: agreement.id };
}

describe('services users', () => {
  it('users - a created user gets a token once; the token authenticates with role and scope until revoked', () => {
    const w = world();
    const { token, user } = w.d.users.create({ name: 'li', role: Role.OFFICER, departmentCode: 'gat' }, ADMIN);
    expect(token).toMatch(/^xut_/);
    expect(user).toMatchObject({
      name: 'li',
      role: 'officer',
      departmentCode: 'gat',
      regionCode: null,
      createdBy: 'admin',
      revokedAt: null,
    });
    expect(w.d.users.authenticate(token)).toEqual({ name: 'li', role: 'officer', departmentCode: 'gat' });
    expect(w.d.users.authenticate(token + 'x')).toBeUndefined();
    const stored = w.d.store.db.prepare('SELECT token_hash FROM users WHERE id = ?').get(user.id) as {
      token_hash: string;
    };
    expect(stored.token_hash).not.toContain(token);
    w.d.users.revoke(user.id, ADMIN);
    expect(w.d.users.authenticate(token)).toBeUndefined();
    expect(w.d.audit.list({ action: 'user' }).map((e) => [e.action, e.entityId, e.actor])).toEqual([
      ['user.create', user.id, 'admin'],
      ['user.revoke', user.id, 'admin'],
    ]);
  });

  it('users - scope rules, reserved and duplicate names are refused naming the field and create nothing', () => {
    const w = world();
    w.d.users.create({ name: 'li', role: Role.OFFICER, departmentCode: 'gat' }, ADMIN);
    const before = snapshot(w.d);
    expect(xchgError(() => w.d.users.create({ name: 'x', role: Role.OFFICER }, ADMIN)).field).toBe('departmentCode');
    expect(xchgError(() => w.d.users.create({ name: 'x', role: Role.CITY_ADMIN }, ADMIN)).field).toBe('regionCode');
    expect(
      xchgError(() => w.d.users.create({ name: 'x', role: Role.AUDITOR, departmentCode: 'gat' }, ADMIN)).message,
    ).toMatch(/only an officer has a department/);
    expect(
      xchgError(() => w.d.users.create({ name: 'x', role: Role.OFFICER, departmentCode: 'nope' }, ADMIN)).message,
    ).toBe('departmentCode: department "nope" not found');
    expect(xchgError(() => w.d.users.create({ name: 'admin', role: Role.OPERATOR }, ADMIN)).message).toMatch(
      /reserved/,
    );
    expect(xchgError(() => w.d.users.create({ name: 'li', role: Role.OPERATOR }, ADMIN)).code).toBe(
      ErrorCode.ALREADY_EXISTS,
    );
    expect(snapshot(w.d)).toEqual(before);
  });
});

describe('services catalog', () => {
  it('catalog - a resource starts as a draft with version 1 and its history; publishing makes it published', () => {
    const w = world();
    const r = w.d.catalog.create(population(w), LI);
    expect(r).toMatchObject({
      code: 'R-POP',
      status: 'draft',
      version: 1,
      providerDepartmentCode: 'gat',
      format: 'table',
    });
    expect(r.fields[3]).toEqual({ name: 'phone', type: 'string', description: '', required: false, sensitive: true });
    const p = w.d.catalog.publish('R-POP', LI);
    expect(p).toMatchObject({ status: 'published', version: 1, publishedAt: w.d.clock() });
    expect(w.d.catalog.get('R-POP').versions.map((v) => [v.version, v.note, v.by])).toEqual([[1, 'created', 'li']]);
    expect(w.d.audit.list({ resourceCode: 'R-POP' }).map((e) => e.action)).toEqual([
      'resource.create',
      'resource.publish',
    ]);
  });

  it('catalog - bad input is refused with the field named and changes nothing', () => {
    const w = world();
    w.d.catalog.create(population(w), LI);
    const before = snapshot(w.d);
    const dup = xchgError(() => w.d.catalog.create(population(w), LI));
    expect([dup.code, dup.message]).toEqual([ErrorCode.ALREADY_EXISTS, 'resource "R-POP" already exists']);
    const noBasis = xchgError(() =>
      w.d.catalog.create(population(w, { code: 'R-SECRET', shareType: 'not_shared', shareMethods: [] }), LI),
    );
    expect([noBasis.code, noBasis.field]).toEqual([ErrorCode.INVALID_ARGUMENT, 'legalBasis']);
    const noConditions = xchgError(() => w.d.catalog.create(population(w, { code: 'R-2', conditions: '' }), LI));
    expect(noConditions.field).toBe('conditions');
    const otherDept = xchgError(() =>
      w.d.catalog.create(population(w, { code: 'R-3', providerDepartmentCode: 'mzj', providerNodeId: w.mzjNode }), LI),
    );
    expect([otherDept.code, otherDept.message]).toEqual([
      ErrorCode.PERMISSION_DENIED,
      'officer li acts for department gat only, not for mzj',
    ]);
    const foreignNode = xchgError(() =>
      w.d.catalog.create(population(w, { code: 'R-4', providerNodeId: w.mzjNode }), LI),
    );
    expect(foreignNode.message).toMatch(/^providerNodeId: node .* belongs to mzj, not to the provider gat$/);
    const unknownDept = xchgError(() =>
      w.d.catalog.create(population(w, { code: 'R-5', providerDepartmentCode: 'nope' }), ADMIN),
    );
    expect(unknownDept.field).toBe('providerDepartmentCode');
    expect(xchgError(() => w.d.catalog.publish('R-NOPE', LI)).code).toBe(ErrorCode.NOT_FOUND);
    expect(snapshot(w.d)).toEqual(before);
  });

  it('catalog - a draft changes in place; a published resource gets a new version and its subscribers a notice', () => {
    const w = world();
    w.d.catalog.create(population(w, { shareType: 'unconditional', conditions: '' }), LI);
    w.d.catalog.update('R-POP', { name: '人口信息（草稿改）' }, LI);
    expect(w.d.catalog.versions('R-POP').map((v) => [v.version, v.content.name])).toEqual([[1, '人口信息（草稿改）']]);
    w.d.catalog.publish('R-POP', LI);
    w.d.sharing.subscribe({ resourceCode: 'R-POP', consumerNodeId: w.mzjNode, sinkBinding: 'people' }, WANG);
    w.d.sharing.subscribe({ resourceCode: 'R-POP', consumerNodeId: w.sbjNode, sinkBinding: 'people' }, ADMIN);
    w.d.manual!.advance(1000);
    const v2 = w.d.catalog.update(
      'R-POP',
      { updateCycle: 'hourly', description: '每小时更新', note: '改为每小时' },
      LI,
    );
    expect(v2.version).toBe(2);
    const history = w.d.catalog.get('R-POP').versions;
    expect(history.map((v) => [v.version, v.changedKeys, v.note])).toEqual([
      [1, [], 'draft edited'],
      [2, ['description', 'updateCycle'], '改为每小时'],
    ]);
    expect(history[0]!.content.updateCycle).toBe('daily');
    const notices = w.d.catalog.notifications({ resourceCode: 'R-POP' });
    expect(notices.map((n) => [n.departmentCode, n.kind, n.version]).sort()).toEqual([
      ['mzj', 'resource.changed', 2],
      ['sbj', 'resource.changed', 2],
    ]);
    expect(notices[0]!.message).toBe('resource R-POP changed to version 2: description, updateCycle');
    // Nothing to change is refused; a retired resource does not change.
    expect(xchgError(() => w.d.catalog.update('R-POP', { updateCycle: 'hourly' }, LI)).message).toMatch(
      /nothing changes/,
    );
    w.d.catalog.retire('R-POP', LI, '数据并入新资源');
    expect(w.d.catalog.notifications({ departmentCode: 'mzj' }).map((n) => n.kind)).toEqual([
      'resource.retired',
      'resource.changed',
    ]);
    // Retiring stops the flows: every subscription stopped, every task disabled.
    expect(w.d.sharing.listSubscriptions({}, ADMIN).map((x) => [x.status, x.stopReason])).toEqual([
      ['stopped', 'resource R-POP retired: 数据并入新资源'],
      ['stopped', 'resource R-POP retired: 数据并入新资源'],
    ]);
    expect(w.d.assignments.listTasks().every((t) => !t.enabled)).toBe(true);
    expect(xchgError(() => w.d.catalog.update('R-POP', { name: 'x' }, LI)).code).toBe(ErrorCode.FAILED_PRECONDITION);
    expect(xchgError(() => w.d.catalog.publish('R-POP', LI)).message).toMatch(/retired is final/);
  });

  it('catalog - officers see published resources and their own drafts only', () => {
    const w = world();
    w.d.catalog.create(population(w), LI);
    expect(w.d.catalog.list({}, WANG)).toEqual([]);
    expect(w.d.catalog.list({}, LI).map((r) => r.code)).toEqual(['R-POP']);
    w.d.catalog.publish('R-POP', LI);
    expect(w.d.catalog.list({}, WANG).map((r) => r.code)).toEqual(['R-POP']);
  });
});

describe('services sharing', () => {
  it('sharing - an application gets a deadline of 10 working days and shows as pending, not overdue', () => {
    const w = world();
    w.d.catalog.create(population(w), LI);
    w.d.catalog.publish('R-POP', LI);
    // The manual clock starts on Wednesday 2023-11-15 06:13 in Beijing: ten working days end with Wednesday the 29th.
    const a = w.d.sharing.apply({ resourceCode: 'R-POP', purpose: '低保资格核查' }, WANG);
    expect(a).toMatchObject({
      status: 'pending',
      consumerDepartmentCode: 'mzj',
      providerDepartmentCode: 'gat',
      applicant: 'wang',
      overdue: false,
    });
    expect(a.requestedFields).toEqual(['id', 'id_no', 'name', 'phone', 'district']);
    expect(a.deadlineAt).toBe(Date.parse('2023-11-30T00:00:00+08:00'));
  });

  it('sharing - approval creates an agreement for the approved fields valid one year; the application records it', () => {
    const w = world();
    const { applicationId, agreementId } = approved(w);
    const a = w.d.sharing.getApplication(applicationId, WANG);
    expect(a).toMatchObject({
      status: 'approved',
      answeredBy: 'li',
      answeredAt: w.d.clock(),
      approvedFields: ['id', 'name', 'district'],
      agreementId,
    });
    const ag = w.d.sharing.getAgreement(agreementId, LI);
    expect(ag).toMatchObject({
      resourceCode: 'R-POP',
      consumerDepartmentCode: 'mzj',
      providerDepartmentCode: 'gat',
      fields: ['id', 'name', 'district'],
      purpose: '低保资格核查',
      status: 'active',
      state: 'active',
    });
    expect(ag.validUntil - ag.validFrom).toBe(365 * DAY);
    expect(w.d.audit.list({ resourceCode: 'R-POP', action: 'application' }).map((e) => e.action)).toEqual([
      'application.submit',
      'application.approve',
    ]);
  });

  it('sharing - the approver may narrow the fields and set the validity, but not grant beyond the request', () => {
    const w = world();
    w.d.catalog.create(population(w), LI);
    w.d.catalog.publish('R-POP', LI);
    const a = w.d.sharing.apply({ resourceCode: 'R-POP', purpose: '核查', fields: ['id', 'name'] }, WANG);
    const wide = xchgError(() => w.d.sharing.approve(a.id, { fields: ['id', 'phone'] }, LI));
    expect(wide.message).toBe('fields: not requested by the applicant: phone (approve a subset of id, name)');
    expect(xchgError(() => w.d.sharing.approve(a.id, { validUntil: w.d.clock() - 1 }, LI)).field).toBe('validUntil');
    const { agreement } = w.d.sharing.approve(a.id, { fields: ['id'], validDays: 30 }, LI);
    expect(agreement.fields).toEqual(['id']);
    expect(agreement.validUntil).toBe(w.d.clock() + 30 * DAY);
  });

  it('sharing - refused: unknown resource, not-shared (naming its basis), unconditional, own department, blank purpose, unknown field — nothing written', () => {
    const w = world();
    w.d.catalog.create(population(w), LI);
    w.d.catalog.publish('R-POP', LI);
    w.d.catalog.create(
      population(w, {
        code: 'R-SECRET',
        shareType: 'not_shared',
        shareMethods: [],
        conditions: '',
        legalBasis: '《中华人民共和国保守国家秘密法》第十条',
      }),
      LI,
    );
    w.d.catalog.publish('R-SECRET', LI);
    w.d.catalog.create(population(w, { code: 'R-OPEN', shareType: 'unconditional' }), LI);
    w.d.catalog.publish('R-OPEN', LI);
    w.d.catalog.create(population(w, { code: 'R-DRAFT' }), LI);
    const before = snapshot(w.d);
    const unknown = xchgError(() => w.d.sharing.apply({ resourceCode: 'R-NOPE', purpose: 'x' }, WANG));
    expect([unknown.code, unknown.field, unknown.message]).toEqual([
      ErrorCode.NOT_FOUND,
      'resourceCode',
      'resourceCode: resource "R-NOPE" not found',
    ]);
    const secret = xchgError(() => w.d.sharing.apply({ resourceCode: 'R-SECRET', purpose: '核查' }, WANG));
    expect(secret.code).toBe(ErrorCode.PERMISSION_DENIED);
    expect(secret.message).toBe(
      'resourceCode: resource R-SECRET is not shared (不予共享); legal basis: 《中华人民共和国保守国家秘密法》第十条',
    );
    expect(xchgError(() => w.d.sharing.apply({ resourceCode: 'R-OPEN', purpose: 'x' }, WANG)).message).toMatch(
      /subscribe to it directly/,
    );
    expect(xchgError(() => w.d.sharing.apply({ resourceCode: 'R-DRAFT', purpose: 'x' }, WANG)).message).toMatch(
      /is draft/,
    );
    expect(xchgError(() => w.d.sharing.apply({ resourceCode: 'R-POP', purpose: 'x' }, LI)).message).toMatch(
      /does not apply for its own resource/,
    );
    expect(xchgError(() => w.d.sharing.apply({ resourceCode: 'R-POP', purpose: '  ' }, WANG)).field).toBe('purpose');
    expect(
      xchgError(() => w.d.sharing.apply({ resourceCode: 'R-POP', purpose: 'x', fields: ['id', 'salary'] }, WANG))
        .message,
    ).toBe('fields: not fields of resource R-POP: salary');
    expect(xchgError(() => w.d.sharing.apply({ resourceCode: 'R-POP', purpose: 'x' }, ADMIN)).field).toBe(
      'consumerDepartmentCode',
    );
    const forOther = xchgError(() =>
      w.d.sharing.apply({ resourceCode: 'R-POP', purpose: 'x', consumerDepartmentCode: 'sbj' }, WANG),
    );
    expect([forOther.code, forOther.message]).toEqual([
      ErrorCode.PERMISSION_DENIED,
      'officer wang acts for department mzj only, not for sbj',
    ]);
    expect(snapshot(w.d)).toEqual(before);
  });

  it("sharing - answering is the provider's: not one's own application, not another department's officer, a reason to reject, once", () => {
    const w = world();
    w.d.catalog.create(population(w), LI);
    w.d.catalog.publish('R-POP', LI);
    // The operator applies on behalf of 民政局, so the operator may not answer it.
    const a = w.d.sharing.apply({ resourceCode: 'R-POP', purpose: '核查', consumerDepartmentCode: 'mzj' }, OPERATOR);
    const before = snapshot(w.d);
    const own = xchgError(() => w.d.sharing.approve(a.id, {}, OPERATOR));
    expect([own.code, own.message]).toEqual([
      ErrorCode.PERMISSION_DENIED,
      `op submitted application ${a.id}; an application is answered by someone else`,
    ]);
    const consumerOfficer = xchgError(() => w.d.sharing.approve(a.id, {}, WANG));
    expect([consumerOfficer.code, consumerOfficer.message]).toEqual([
      ErrorCode.PERMISSION_DENIED,
      'officer wang acts for department mzj only, not for gat',
    ]);
    const noReason = xchgError(() => w.d.sharing.reject(a.id, '   ', LI));
    expect([noReason.code, noReason.field]).toEqual([ErrorCode.INVALID_ARGUMENT, 'reason']);
    expect(xchgError(() => w.d.sharing.approve('app-nope', {}, LI)).code).toBe(ErrorCode.NOT_FOUND);
    expect(snapshot(w.d)).toEqual(before);

    const rejected = w.d.sharing.reject(a.id, '用途与资源共享条件不符', LI);
    expect(rejected).toMatchObject({
      status: 'rejected',
      reason: '用途与资源共享条件不符',
      answeredBy: 'li',
      agreementId: null,
      approvedFields: null,
    });
    expect(xchgError(() => w.d.sharing.approve(a.id, {}, LI)).message).toMatch(/already rejected; an answer is final/);
    // A rejected application moved nothing: no agreement, subscription or task.
    expect([count(w.d, 'agreements'), count(w.d, 'subscriptions'), count(w.d, 'tasks')]).toEqual([0, 0, 0]);
    expect(
      xchgError(() =>
        w.d.sharing.subscribe({ resourceCode: 'R-POP', consumerNodeId: w.mzjNode, sinkBinding: 'people' }, WANG),
      ).message,
    ).toMatch(/^agreementId: resource R-POP is conditional/);
  });

  it('sharing - a subscription on an agreement creates a sync task at the provider and an exchange task at the consumer with only the approved fields', () => {
    const w = world();
    const { agreementId } = approved(w);
    const s = w.d.sharing.subscribe({ agreementId, consumerNodeId: w.mzjNode, sinkBinding: 'people' }, WANG);
    expect(s).toMatchObject({
      resourceCode: 'R-POP',
      agreementId,
      consumerDepartmentCode: 'mzj',
      providerNodeId: w.gatNode,
      consumerNodeId: w.mzjNode,
      method: 'database_sync',
      status: 'active',
      fields: ['id', 'name', 'district'],
    });
    const sync = w.d.assignments.getTask(s.syncTaskId);
    const exchange = w.d.assignments.getTask(s.exchangeTaskId);
    expect(sync).toMatchObject({
      kind: 'sync',
      nodeId: w.gatNode,
      peerNodeId: w.mzjNode,
      binding: 'population',
      subscriptionId: s.id,
      resourceCode: 'R-POP',
      enabled: true,
    });
    expect(exchange).toMatchObject({
      kind: 'exchange',
      nodeId: w.mzjNode,
      peerNodeId: w.gatNode,
      binding: 'people',
      subscriptionId: s.id,
      resourceCode: 'R-POP',
      enabled: true,
    });
    const params = {
      fields: [
        { name: 'id', type: 'integer', required: true },
        { name: 'name', type: 'string', required: true, mask: 'name' },
        { name: 'district', type: 'string', required: false },
      ],
      agreementId,
      allowedFields: ['id', 'name', 'district'],
      agreementValidUntil: w.d.sharing.getAgreement(agreementId, ADMIN).validUntil,
    };
    expect(sync.params).toEqual(params);
    expect(exchange.params).toEqual(params);
    // Both nodes' assignment versions moved, so their long-polls return.
    expect(w.d.assignments.desired(w.gatNode).tasks.map((t) => t.id)).toEqual([sync.id]);
    expect(w.d.assignments.desired(w.mzjNode).tasks.map((t) => t.id)).toEqual([exchange.id]);
    // A second identical subscription is refused; another department's node may not use this agreement.
    expect(
      xchgError(() => w.d.sharing.subscribe({ agreementId, consumerNodeId: w.mzjNode, sinkBinding: 'people' }, WANG))
        .code,
    ).toBe(ErrorCode.ALREADY_EXISTS);
    const foreign = xchgError(() =>
      w.d.sharing.subscribe({ agreementId, consumerNodeId: w.sbjNode, sinkBinding: 'people' }, ADMIN),
    );
    expect([foreign.code, foreign.field]).toEqual([ErrorCode.PERMISSION_DENIED, 'consumerNodeId']);
    expect(
      xchgError(() => w.d.sharing.subscribe({ agreementId, consumerNodeId: w.mzjNode, sinkBinding: 'other' }, LI)).code,
    ).toBe(ErrorCode.PERMISSION_DENIED);
  });

  it('sharing - an unconditional resource is subscribed directly with all its fields; a not-shared one is refused naming its basis', () => {
    const w = world();
    w.d.catalog.create(population(w, { shareType: 'unconditional', conditions: '' }), LI);
    w.d.catalog.publish('R-POP', LI);
    const s = w.d.sharing.subscribe(
      { resourceCode: 'R-POP', consumerNodeId: w.mzjNode, sinkBinding: 'people', intervalMs: 5000 },
      WANG,
    );
    const t = w.d.assignments.getTask(s.syncTaskId);
    expect(t.intervalMs).toBe(5000);
    expect(t.params['agreementId']).toBe('');
    expect(t.params['agreementValidUntil']).toBeUndefined();
    expect(t.params['allowedFields']).toEqual(['id', 'id_no', 'name', 'phone', 'district']);
    expect((t.params['fields'] as { name: string; mask?: string }[]).map((f) => [f.name, f.mask ?? '-'])).toEqual([
      ['id', '-'],
      ['id_no', 'idcard'],
      ['name', 'name'],
      ['phone', 'redact'],
      ['district', '-'],
    ]);
    w.d.catalog.create(
      population(w, {
        code: 'R-SECRET',
        shareType: 'not_shared',
        shareMethods: [],
        legalBasis: '《统计法》第三十九条',
      }),
      LI,
    );
    w.d.catalog.publish('R-SECRET', LI);
    const err = xchgError(() =>
      w.d.sharing.subscribe({ resourceCode: 'R-SECRET', consumerNodeId: w.mzjNode, sinkBinding: 'people' }, WANG),
    );
    expect([err.code, err.message]).toEqual([
      ErrorCode.PERMISSION_DENIED,
      'resourceCode: resource R-SECRET is not shared (不予共享); legal basis: 《统计法》第三十九条',
    ]);
  });

  it('sharing - revoking an agreement disables both tasks and stops the subscription in one step; a reason is required', () => {
    const w = world();
    const { agreementId } = approved(w);
    const s = w.d.sharing.subscribe({ agreementId, consumerNodeId: w.mzjNode, sinkBinding: 'people' }, WANG);
    const versions = [w.d.assignments.desired(w.gatNode).version, w.d.assignments.desired(w.mzjNode).version];
    expect(xchgError(() => w.d.sharing.revokeAgreement(agreementId, '', LI)).field).toBe('reason');
    expect(xchgError(() => w.d.sharing.revokeAgreement(agreementId, '越权使用', WANG)).code).toBe(
      ErrorCode.PERMISSION_DENIED,
    );
    const ag = w.d.sharing.revokeAgreement(agreementId, '发现超范围使用', LI);
    expect(ag).toMatchObject({ status: 'revoked', state: 'revoked', endedBy: 'li', endReason: '发现超范围使用' });
    expect(w.d.assignments.getTask(s.syncTaskId).enabled).toBe(false);
    expect(w.d.assignments.getTask(s.exchangeTaskId).enabled).toBe(false);
    expect(w.d.assignments.desired(w.gatNode).version).toBeGreaterThan(versions[0]!);
    expect(w.d.assignments.desired(w.mzjNode).version).toBeGreaterThan(versions[1]!);
    expect(w.d.sharing.getSubscription(s.id, WANG)).toMatchObject({
      status: 'stopped',
      stopReason: `agreement ${agreementId} revoked: 发现超范围使用`,
    });
    // The flow cannot be switched back on, nor a new subscription made on it.
    const reenable = xchgError(() => w.d.assignments.updateTask(s.syncTaskId, { enabled: true }, OPERATOR));
    expect([reenable.code, reenable.message]).toEqual([
      ErrorCode.PERMISSION_DENIED,
      `params.agreementId: agreement ${agreementId} is revoked`,
    ]);
    expect(
      xchgError(() => w.d.sharing.subscribe({ agreementId, consumerNodeId: w.mzjNode, sinkBinding: 'people2' }, WANG))
        .message,
    ).toMatch(/is revoked; apply again/);
    expect(xchgError(() => w.d.sharing.revokeAgreement(agreementId, 'again', LI)).message).toMatch(/already revoked/);
    expect(w.d.audit.list({ entityId: s.id }).map((e) => e.action)).toEqual([
      'subscription.create',
      'subscription.stop',
    ]);
  });

  it('sharing - deleting a subscription deletes its tasks', () => {
    const w = world();
    const { agreementId } = approved(w);
    const s = w.d.sharing.subscribe({ agreementId, consumerNodeId: w.mzjNode, sinkBinding: 'people' }, WANG);
    expect(xchgError(() => w.d.sharing.unsubscribe(s.id, LI)).code).toBe(ErrorCode.PERMISSION_DENIED);
    const gone = w.d.sharing.unsubscribe(s.id, WANG);
    expect(gone).toMatchObject({ status: 'stopped', stopReason: 'deleted by wang' });
    expect(w.d.assignments.listTasks()).toEqual([]);
    expect(xchgError(() => w.d.sharing.unsubscribe(s.id, WANG)).code).toBe(ErrorCode.FAILED_PRECONDITION);
  });

  it('sharing - the sweep raises one alarm per overdue application, never answers it, and the listing shows it overdue', () => {
    const w = world({ approvalWorkingDays: 2 });
    w.d.catalog.create(population(w), LI);
    w.d.catalog.publish('R-POP', LI);
    const a = w.d.sharing.apply({ resourceCode: 'R-POP', purpose: '核查' }, WANG);
    // Wednesday 06:13 + 2 working days: due by the end of Friday.
    expect(a.deadlineAt).toBe(Date.parse('2023-11-18T00:00:00+08:00'));
    expect(w.d.sharing.sweep()).toEqual({ overdueAlarms: [], expired: [] });
    w.d.manual!.nowMs = a.deadlineAt - 1;
    expect(w.d.sharing.listApplications({ overdue: true }, ADMIN)).toEqual([]);
    w.d.manual!.nowMs = a.deadlineAt;
    expect(w.d.sharing.listApplications({ overdue: true }, ADMIN).map((x) => [x.id, x.status, x.overdue])).toEqual([
      [a.id, 'pending', true],
    ]);
    expect(w.d.sharing.sweep()).toEqual({ overdueAlarms: [a.id], expired: [] });
    w.d.manual!.advance(DAY);
    expect(w.d.sharing.sweep()).toEqual({ overdueAlarms: [], expired: [] });
    expect(w.d.alerts.list()).toEqual([
      {
        id: 1,
        kind: 'application_overdue',
        entityId: a.id,
        departmentCode: 'gat',
        message: expect.stringMatching(/past its answer deadline/),
        // what the dashboard words the alert from, in the viewer's language
        params: { application: a.id, consumer: 'mzj', provider: 'gat', resource: 'R-POP' },
        at: a.deadlineAt,
        startedAt: a.deadlineAt,
        // the second sweep saw it again: counted, not duplicated
        lastSeenAt: a.deadlineAt + DAY,
        count: 2,
        severity: 'warning',
        state: 'firing',
        acknowledgement: null,
        endedAt: null,
        endReason: '',
      },
    ]);
    expect(w.d.sharing.getApplication(a.id, ADMIN)).toMatchObject({
      status: 'pending',
      overdue: true,
      agreementId: null,
    });
    expect(count(w.d, 'agreements')).toBe(0);
    // Answering late is still possible, and counts as not on time.
    w.d.sharing.approve(a.id, {}, LI);
    expect(w.d.audit.list({ action: 'application.approve' })[0]!.details['onTime']).toBe(false);
    expect(w.d.audit.list({ action: 'application.overdue' }).map((e) => [e.actor, e.entityId])).toEqual([
      ['system', a.id],
    ]);
  });

  it('sharing - an agreement past its validity is expired by the sweep and its flows stop', () => {
    const w = world();
    w.d.catalog.create(population(w), LI);
    w.d.catalog.publish('R-POP', LI);
    const a = w.d.sharing.apply({ resourceCode: 'R-POP', purpose: '核查', fields: ['id'] }, WANG);
    const { agreement } = w.d.sharing.approve(a.id, { validDays: 1 }, LI);
    const s = w.d.sharing.subscribe(
      { agreementId: agreement.id, consumerNodeId: w.mzjNode, sinkBinding: 'people' },
      WANG,
    );
    w.d.manual!.advance(DAY);
    // Past validUntil the agreement reads expired even before the sweep has run.
    expect(w.d.sharing.getAgreement(agreement.id, WANG)).toMatchObject({ status: 'active', state: 'expired' });
    expect(w.d.sharing.sweep()).toEqual({ overdueAlarms: [], expired: [agreement.id] });
    expect(w.d.sharing.getAgreement(agreement.id, WANG)).toMatchObject({ status: 'expired', endedBy: 'system' });
    expect(w.d.assignments.getTask(s.syncTaskId).enabled).toBe(false);
    expect(w.d.assignments.getTask(s.exchangeTaskId).enabled).toBe(false);
    expect(w.d.sharing.getSubscription(s.id, WANG).stopReason).toMatch(/^agreement .* expired: validity ended at/);
  });

  it('sharing - officers list only the records of their own department', () => {
    const w = world();
    approved(w);
    const SUN: Actor = { name: 'sun', role: Role.OFFICER, departmentCode: 'sbj' };
    expect(w.d.sharing.listApplications({}, WANG)).toHaveLength(1);
    expect(w.d.sharing.listApplications({}, SUN)).toEqual([]);
    expect(w.d.sharing.listAgreements({}, SUN)).toEqual([]);
    expect(xchgError(() => w.d.sharing.listApplications({ departmentCode: 'mzj' }, SUN)).code).toBe(
      ErrorCode.PERMISSION_DENIED,
    );
    const id = w.d.sharing.listAgreements({}, ADMIN)[0]!.id;
    expect(xchgError(() => w.d.sharing.getAgreement(id, SUN)).code).toBe(ErrorCode.PERMISSION_DENIED);
  });
});

describe('services task guard', () => {
  it('task guard - central refuses a hand-made task for a conditional resource without an agreement, or beyond its fields', () => {
    const w = world();
    const { agreementId } = approved(w);
    const base = {
      name: 'tampered',
      kind: 'sync' as const,
      nodeId: w.gatNode,
      peerNodeId: w.sbjNode,
      binding: 'population',
      resourceCode: 'R-POP',
      subscriptionId: 'sub-x',
    };
    const before = snapshot(w.d);
    const none = xchgError(() =>
      w.d.assignments.createTask({ ...base, params: { fields: [{ name: 'id' }] } }, OPERATOR),
    );
    expect([none.code, none.field]).toEqual([ErrorCode.PERMISSION_DENIED, 'params.agreementId']);
    // Someone else's agreement: 社保局 does not hold it.
    const foreign = xchgError(() =>
      w.d.assignments.createTask({ ...base, params: { fields: [{ name: 'id' }], agreementId } }, OPERATOR),
    );
    expect(foreign.message).toBe(`peerNodeId: agreement ${agreementId} is held by mzj, not by sbj`);
    const wider = xchgError(() =>
      w.d.assignments.createTask(
        { ...base, peerNodeId: w.mzjNode, params: { fields: [{ name: 'id' }, { name: 'phone' }], agreementId } },
        OPERATOR,
      ),
    );
    expect(wider.message).toBe(`params.fields: agreement ${agreementId} does not cover: phone`);
    const allowed = xchgError(() =>
      w.d.assignments.createTask(
        {
          ...base,
          peerNodeId: w.mzjNode,
          params: { fields: [{ name: 'id' }], allowedFields: ['id', 'id_no'], agreementId },
        },
        OPERATOR,
      ),
    );
    expect(allowed.message).toBe(`params.fields: agreement ${agreementId} does not cover: id_no`);
    // Leaving the resource code out does not help: the binding is known to carry R-POP.
    const hidden = xchgError(() => w.d.assignments.createTask({ ...base, resourceCode: '', params: {} }, OPERATOR));
    expect(hidden.message).toMatch(/^resourceCode: binding population of node .* carries catalog resource R-POP/);
    expect(snapshot(w.d)).toEqual(before);
    // Within the agreement a hand-made task is accepted; tasks outside the catalog are as before.
    w.d.assignments.createTask(
      { ...base, peerNodeId: w.mzjNode, params: { fields: [{ name: 'id' }], agreementId } },
      OPERATOR,
    );
    w.d.assignments.createTask({ ...base, resourceCode: '', binding: 'other-source', params: {} }, OPERATOR);
    expect(count(w.d, 'tasks')).toBe(2);
  });
});

describe('services task guard (bindings)', () => {
  it("task guard - a draft or unconditional resource on a binding does not stop the operator's own tasks there", () => {
    const w = world();
    w.d.catalog.create(population(w), LI); // conditional, still a draft
    w.d.catalog.create(population(w, { code: 'R-OPEN', shareType: 'unconditional', binding: 'open' }), LI);
    w.d.catalog.publish('R-OPEN', LI);
    const raw = {
      name: 'raw',
      kind: 'sync' as const,
      nodeId: w.gatNode,
      peerNodeId: w.mzjNode,
      subscriptionId: 's',
      params: {},
    };
    w.d.assignments.createTask({ ...raw, binding: 'population' }, OPERATOR);
    w.d.assignments.createTask({ ...raw, binding: 'open' }, OPERATOR);
    expect(count(w.d, 'tasks')).toBe(2);
    // Once the conditional resource is published, a raw task on its binding is refused.
    w.d.catalog.publish('R-POP', LI);
    expect(xchgError(() => w.d.assignments.createTask({ ...raw, binding: 'population' }, OPERATOR)).code).toBe(
      ErrorCode.PERMISSION_DENIED,
    );
    // Disabling the earlier raw task is always possible.
    const t = w.d.assignments.listTasks()[0]!;
    expect(w.d.assignments.updateTask(t.id, { enabled: false }, OPERATOR).enabled).toBe(false);
  });
});

describe('services catalog share type', () => {
  it('catalog - making a resource not shared clears its methods, and is refused while subscriptions still flow', () => {
    const w = world();
    w.d.catalog.create(population(w, { shareType: 'unconditional', conditions: '' }), LI);
    w.d.catalog.publish('R-POP', LI);
    const s = w.d.sharing.subscribe({ resourceCode: 'R-POP', consumerNodeId: w.mzjNode, sinkBinding: 'people' }, WANG);
    const busy = xchgError(() =>
      w.d.catalog.update('R-POP', { shareType: 'not_shared', legalBasis: '《统计法》' }, LI),
    );
    expect([busy.code, busy.field]).toEqual([ErrorCode.FAILED_PRECONDITION, 'shareType']);
    w.d.sharing.unsubscribe(s.id, WANG);
    const r = w.d.catalog.update('R-POP', { shareType: 'not_shared', legalBasis: '《统计法》' }, LI);
    expect([r.shareType, r.shareMethods, r.version]).toEqual(['not_shared', [], 2]);
    const back = w.d.catalog.update('R-POP', { shareType: 'conditional', conditions: '限审核用' }, LI);
    expect(back.shareMethods).toEqual(['database_sync']);
  });
});

describe('services objections', () => {
  it('objections - a consumer that received the resource raises one; the provider answers it with times recorded', () => {
    const w = world();
    const { agreementId } = approved(w);
    expect(xchgError(() => w.d.objections.raise({ resourceCode: 'R-POP', note: '姓名有误' }, WANG)).message).toMatch(
      /has never subscribed/,
    );
    w.d.sharing.subscribe({ agreementId, consumerNodeId: w.mzjNode, sinkBinding: 'people' }, WANG);
    const o = w.d.objections.raise({ resourceCode: 'R-POP', recordKey: 'id=42', note: '姓名与户籍登记不符' }, WANG);
    expect(o).toMatchObject({
      status: 'open',
      consumerDepartmentCode: 'mzj',
      providerDepartmentCode: 'gat',
      recordKey: 'id=42',
      raisedBy: 'wang',
      raisedAt: w.d.clock(),
      result: null,
    });
    expect(xchgError(() => w.d.objections.answer(o.id, { result: 'corrected', note: '已更正' }, WANG)).code).toBe(
      ErrorCode.PERMISSION_DENIED,
    );
    expect(xchgError(() => w.d.objections.answer(o.id, { result: 'corrected', note: ' ' }, LI)).field).toBe('note');
    w.d.manual!.advance(2 * 3600_000);
    const answered = w.d.objections.answer(o.id, { result: 'corrected', note: '户籍系统已更正，下次同步生效' }, LI);
    expect(answered).toMatchObject({
      status: 'answered',
      result: 'corrected',
      answeredBy: 'li',
      answeredAt: o.raisedAt + 2 * 3600_000,
    });
    expect(xchgError(() => w.d.objections.answer(o.id, { result: 'confirmed_correct', note: 'x' }, LI)).code).toBe(
      ErrorCode.FAILED_PRECONDITION,
    );
    expect(w.d.objections.list({ status: 'open' }, ADMIN)).toEqual([]);
    expect(w.d.objections.list({ resourceCode: 'R-POP' }, WANG).map((x) => x.id)).toEqual([o.id]);
    expect(w.d.audit.list({ action: 'objection' }).map((e) => e.action)).toEqual([
      'objection.raise',
      'objection.answer',
    ]);
  });
});

describe('services audit', () => {
  it('audit - every change of the story is in the log, in order, and the chain verifies', () => {
    const w = world();
    const { agreementId } = approved(w);
    const s = w.d.sharing.subscribe({ agreementId, consumerNodeId: w.mzjNode, sinkBinding: 'people' }, WANG);
    w.d.sharing.revokeAgreement(agreementId, '到期前终止', LI);
    // Central's start makes the config's home center first (center.create by system); the story follows.
    const [bootstrap, ...actions] = w.d.audit.list().map((e) => e.action);
    expect(bootstrap).toBe('center.create');
    expect(actions.slice(0, 5)).toEqual([
      'region.create',
      'region.create',
      'department.create',
      'department.create',
      'department.create',
    ]);
    expect(actions.filter((a) => a.startsWith('node.') || a.startsWith('token.'))).toEqual([
      'token.create',
      'node.enroll',
      'token.create',
      'node.enroll',
      'token.create',
      'node.enroll',
    ]);
    expect(actions.slice(11)).toEqual([
      'resource.create',
      'resource.publish',
      'application.submit',
      'application.approve',
      'agreement.create',
      'task.create',
      'task.create',
      'subscription.create',
      'agreement.revoke',
      'task.update',
      'task.update',
      'subscription.stop',
    ]);
    const sub = w.d.audit.list({ action: 'subscription.create' })[0]!;
    expect(sub).toMatchObject({
      actor: 'wang',
      departmentCode: 'gat',
      peerDepartmentCode: 'mzj',
      resourceCode: 'R-POP',
      entityId: s.id,
    });
    // Filters: by either party, by resource, by time.
    expect(
      w.d.audit
        .list({ departmentCode: 'mzj' })
        .every((e) => e.departmentCode === 'mzj' || e.peerDepartmentCode === 'mzj'),
    ).toBe(true);
    expect(w.d.audit.list({ departmentCode: 'sbj' }).map((e) => e.action)).toEqual([
      'department.create',
      'token.create',
      'node.enroll',
    ]);
    expect(w.d.audit.list({ since: w.d.clock() + 1 })).toEqual([]);
    const v = w.d.audit.verify();
    expect(v).toMatchObject({ ok: true, entries: actions.length + 1 }); // and the bootstrap entry
  });

  it('audit - a refused change leaves no entry; an entry cannot be written outside a transaction', () => {
    const w = world();
    const n = count(w.d, 'audit_log');
    xchgError(() => w.d.catalog.create(population(w, { conditions: '' }), LI));
    expect(count(w.d, 'audit_log')).toBe(n);
    expect(() => w.d.audit.record(ADMIN, { action: 'x', entityType: 'x', entityId: 'x' })).toThrow(
      /inside the transaction/,
    );
  });

  it('audit - the table refuses UPDATE and DELETE through SQL', () => {
    const w = world();
    expect(() => w.d.store.db.prepare("UPDATE audit_log SET actor = 'x' WHERE seq = 1").run()).toThrow(/append-only/);
    expect(() => w.d.store.db.prepare('DELETE FROM audit_log WHERE seq = 1').run()).toThrow(/append-only/);
  });

  it('audit - tampering with one row in the SQLite file is detected and the row is named', () => {
    const w = world();
    approved(w);
    expect(w.d.audit.verify().ok).toBe(true);
    const target = w.d.audit.list({ action: 'application.approve' })[0]!;
    // Someone with the file: drops the guard trigger and rewrites who approved.
    const raw = new Database(w.d.dbFile);
    raw.exec('DROP TRIGGER audit_log_no_update');
    raw.prepare("UPDATE audit_log SET actor = 'nobody' WHERE seq = ?").run(target.seq);
    raw.close();
    const v = w.d.audit.verify();
    expect(v.ok).toBe(false);
    expect(v.firstBroken).toEqual({
      seq: target.seq,
      problem: "hash does not match the entry's content (the entry was changed after it was written)",
    });
    // Rewriting the hash as well moves the break to the next link, still naming the place.
    const raw2 = new Database(w.d.dbFile);
    const row = raw2.prepare('SELECT hash FROM audit_log WHERE seq = ?').get(target.seq + 1) as { hash: string };
    raw2.prepare('UPDATE audit_log SET details_json = ? WHERE seq = ?').run('{not json', target.seq + 1);
    raw2.close();
    expect(row.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(w.d.audit.verify().firstBroken?.seq).toBe(target.seq);
  });

  it('audit - a delivery reported by the consumer node is recorded as batch.delivered once', () => {
    const w = world();
    const { agreementId } = approved(w);
    const s = w.d.sharing.subscribe({ agreementId, consumerNodeId: w.mzjNode, sinkBinding: 'people' }, WANG);
    const run = {
      taskId: s.exchangeTaskId,
      runId: 'run-1',
      records: 120,
      batches: 3,
      bytes: 4096,
      startedAtMs: w.d.clock() - 500,
      finishedAtMs: w.d.clock(),
    };
    const item = { reportId: 'r-1', seq: 1, observedAtMs: w.d.clock(), kind: 'task_run', body: run };
    w.d.reports.ingest(w.mzjNode, [item]);
    w.d.reports.ingest(w.mzjNode, [item]); // a retry is not a second delivery
    w.d.reports.ingest(w.mzjNode, [
      { ...item, reportId: 'r-2', seq: 2, body: { ...run, runId: 'run-2', records: 0, batches: 0 } },
    ]);
    w.d.reports.ingest(w.gatNode, [
      { ...item, reportId: 'r-3', body: { ...run, taskId: s.syncTaskId, runId: 'run-3' } },
    ]);
    const delivered = w.d.audit.list({ action: 'batch.delivered' });
    expect(delivered).toHaveLength(1);
    expect(delivered[0]).toMatchObject({
      actor: `node:${w.mzjNode}`,
      entityType: 'task_run',
      entityId: 'run-1',
      departmentCode: 'gat',
      peerDepartmentCode: 'mzj',
      resourceCode: 'R-POP',
      details: {
        subscriptionId: s.id,
        providerNodeId: w.gatNode,
        consumerNodeId: w.mzjNode,
        records: 120,
        batches: 3,
        bytes: 4096,
      },
    });
    expect(w.d.audit.verify().ok).toBe(true);
  });
});

describe('services evaluation', () => {
  it('evaluation - department figures: published, applications answered on time, data provided and used, objections', () => {
    const w = world({ approvalWorkingDays: 2 });
    const since = w.d.clock();
    const { agreementId } = approved(w); // answered at once: on time
    const late = w.d.sharing.apply(
      { resourceCode: 'R-POP', purpose: '复核', fields: ['id'] },
      { ...WANG, name: 'wang2' },
    );
    w.d.sharing.apply({ resourceCode: 'R-POP', purpose: '再次复核', fields: ['id'] }, { ...WANG, name: 'wang3' });
    const s = w.d.sharing.subscribe({ agreementId, consumerNodeId: w.mzjNode, sinkBinding: 'people' }, WANG);
    const run = (taskId: string, runId: string, records: number, batches: number) => ({
      reportId: runId,
      seq: 1,
      observedAtMs: w.d.clock(),
      kind: 'task_run',
      body: { taskId, runId, records, batches, finishedAtMs: w.d.clock() },
    });
    w.d.reports.ingest(w.gatNode, [run(s.syncTaskId, 'p1', 500, 5)]);
    w.d.reports.ingest(w.mzjNode, [run(s.exchangeTaskId, 'c1', 480, 5)]);
    const o = w.d.objections.raise({ resourceCode: 'R-POP', note: '地址过期' }, WANG);
    w.d.objections.answer(o.id, { result: 'confirmed_correct', note: '核实无误' }, LI);
    w.d.manual!.advance(10 * DAY);
    w.d.sharing.reject(late.id, '已由其他申请覆盖', LI); // answered after its deadline
    const report = w.d.evaluation.departments(w.d.evaluation.period(since, w.d.clock() + 1));
    const gat = report.find((r) => r.departmentCode === 'gat')!;
    const mzj = report.find((r) => r.departmentCode === 'mzj')!;
    expect(gat).toMatchObject({
      name: '公安厅',
      resourcesPublished: 1,
      applicationsReceived: 3,
      applicationsAnswered: 2,
      applicationsAnsweredOnTime: 1,
      applicationsPending: 1,
      applicationsOverdue: 1,
      providedRecords: 500,
      providedBatches: 5,
      objectionsReceived: 1,
      objectionsResolved: 1,
      onTimeRate: 0.3333,
      objectionResolutionRate: 1,
    });
    expect(mzj).toMatchObject({
      applicationsMade: 3,
      usedRecords: 480,
      usedBatches: 5,
      objectionsRaised: 1,
      objectionsRaisedResolved: 1,
      resourcesPublished: 0,
      onTimeRate: null,
    });
    // A city admin's scope (南昌市) holds 民政局 only.
    expect(
      w.d.evaluation
        .departments(w.d.evaluation.period(since), w.d.registry.scope('360100'))
        .map((r) => r.departmentCode),
    ).toEqual(['mzj']);
  });

  it('evaluation - region online rate from liveness events over the period, province including its cities', () => {
    const w = world({ heartbeatTtlMs: 60_000 });
    const t0 = w.d.clock();
    const beat = (id: string): void => w.d.nodes.heartbeat(w.d.nodes.get(id), {}, '0.1.0');
    beat(w.gatNode);
    beat(w.mzjNode);
    w.d.manual!.advance(30 * 60_000);
    beat(w.gatNode); // gat stays online; mzj has gone silent
    w.d.manual!.advance(30 * 60_000);
    w.d.nodes.sweep(); // mzj offline at t0 + 60 min (silent 60 min > TTL); gat silent 30 min → also offline
    const period = { since: t0, until: t0 + 120 * 60_000 };
    w.d.manual!.nowMs = period.until;
    const regions = w.d.evaluation.regions(period);
    const city = regions.find((r) => r.regionCode === '360100')!;
    const province = regions.find((r) => r.regionCode === '360000')!;
    // 民政局's node: online 60 of 120 minutes. 公安厅's: 60 of 120. 社保局's never came online: 0 of 120.
    expect(city).toMatchObject({
      name: '南昌市',
      nodes: 1,
      onlineMs: 60 * 60_000,
      observedMs: 120 * 60_000,
      onlineRate: 0.5,
    });
    expect(province).toMatchObject({ nodes: 3, onlineMs: 120 * 60_000, observedMs: 360 * 60_000, onlineRate: 0.3333 });
    expect(w.d.evaluation.regions(period, w.d.registry.scope('360100')).map((r) => r.regionCode)).toEqual(['360100']);
  });
});
