// The governance tables of central.db on real SQLite files: the audit log's head moves with each append
// and rows come back in seq order, answers and alarms happen once, versions and notifications round-trip.
import { afterAll, describe, expect, it } from 'vitest';
import { entryHash, GENESIS_HASH, type AuditBody } from '../../central/src/domain/audit.js';
import { Store } from '../../central/src/store/index.js';
import { tmpDir, removeTmpDirs } from '../helpers/tmp.js';
import { join } from 'node:path';

afterAll(removeTmpDirs);

function store(): Store {
  const s = Store.open(join(tmpDir('xchg-gov-store-'), 'central.db'));
  s.regions.insert({ code: '360000', name: '江西省', level: 'province', parentCode: null, createdAt: 1 });
  s.regions.insertDepartment({ code: 'gat', name: '公安厅', regionCode: '360000', createdAt: 1 });
  s.regions.insertDepartment({ code: 'mzj', name: '民政局', regionCode: '360000', createdAt: 1 });
  return s;
}

const resource = {
  code: 'R-1',
  name: '人口',
  providerDepartmentCode: 'gat',
  description: '',
  fields: [{ name: 'id', type: 'integer' as const, description: '', required: true, sensitive: false }],
  format: 'table',
  shareType: 'conditional' as const,
  conditions: '用途限定',
  legalBasis: '',
  shareMethods: ['database_sync' as const],
  updateCycle: 'daily' as const,
  binding: 'population',
  providerNodeId: null,
  status: 'published' as const,
  version: 1,
  createdAt: 10,
  updatedAt: 10,
  publishedAt: 10,
  retiredAt: null,
};

describe('store audit', () => {
  it('audit store - a fresh log has the genesis head; appends move the head and list in seq order with filters', () => {
    const s = store();
    expect(s.audit.head()).toEqual({ seq: 0, hash: GENESIS_HASH });
    let prev = GENESIS_HASH;
    for (let seq = 1; seq <= 3; seq++) {
      const body: AuditBody = {
        seq,
        at: seq * 100,
        actor: 'admin',
        action: seq === 2 ? 'task.create' : 'resource.create',
        entityType: 'x',
        entityId: `e${seq}`,
        departmentCode: seq === 3 ? 'mzj' : 'gat',
        peerDepartmentCode: seq === 2 ? 'mzj' : '',
        resourceCode: 'R-1',
        details: { n: seq },
      };
      const hash = entryHash(prev, body);
      s.tx(() => s.audit.append({ ...body, prevHash: prev, hash }));
      prev = hash;
    }
    expect(s.audit.head()).toEqual({ seq: 3, hash: prev });
    expect(s.audit.list().map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(s.audit.list({ departmentCode: 'mzj' }).map((e) => e.seq)).toEqual([2, 3]);
    expect(s.audit.list({ departmentCodes: ['gat'] }).map((e) => e.seq)).toEqual([1, 2]);
    expect(s.audit.list({ departmentCodes: [] })).toEqual([]);
    expect(s.audit.list({ action: 'task' }).map((e) => e.seq)).toEqual([2]);
    expect(s.audit.list({ since: 200, until: 300 }).map((e) => e.seq)).toEqual([2]);
    expect(s.audit.list({ afterSeq: 1, limit: 1 }).map((e) => e.seq)).toEqual([2]);
    expect([...s.audit.walk()].map((e) => e.seq)).toEqual([1, 2, 3]);
    s.close();
  });
});

describe('store sharing', () => {
  it('sharing store - an application is answered once; an agreement ends once; an alarm is raised once', () => {
    const s = store();
    s.catalog.insert(resource);
    s.sharing.insertApplication({
      id: 'a1',
      resourceCode: 'R-1',
      resourceVersion: 1,
      providerDepartmentCode: 'gat',
      consumerDepartmentCode: 'mzj',
      applicant: 'wang',
      purpose: 'p',
      requestedFields: ['id'],
      status: 'pending',
      submittedAt: 100,
      deadlineAt: 1000,
      answeredAt: null,
      answeredBy: null,
      reason: '',
      approvedFields: null,
      agreementId: null,
    });
    expect(s.sharing.overdueApplications(999)).toEqual([]);
    expect(s.sharing.overdueApplications(1000).map((a) => a.id)).toEqual(['a1']);
    expect(
      s.sharing.answerApplication('a1', {
        status: 'rejected',
        at: 200,
        by: 'li',
        reason: 'r',
        approvedFields: null,
        agreementId: null,
      }),
    ).toBe(true);
    expect(
      s.sharing.answerApplication('a1', {
        status: 'approved',
        at: 300,
        by: 'li',
        reason: '',
        approvedFields: ['id'],
        agreementId: null,
      }),
    ).toBe(false);
    expect(s.sharing.getApplication('a1')).toMatchObject({ status: 'rejected', answeredAt: 200, reason: 'r' });
    expect(s.sharing.overdueApplications(5000)).toEqual([]);

    s.sharing.insertAgreement({
      id: 'g1',
      applicationId: 'a1',
      resourceCode: 'R-1',
      providerDepartmentCode: 'gat',
      consumerDepartmentCode: 'mzj',
      fields: ['id'],
      purpose: 'p',
      validFrom: 100,
      validUntil: 500,
      status: 'active',
      createdAt: 100,
      endedAt: null,
      endedBy: null,
      endReason: '',
    });
    expect(s.sharing.lapsedAgreements(499)).toEqual([]);
    expect(s.sharing.lapsedAgreements(500).map((a) => a.id)).toEqual(['g1']);
    expect(s.sharing.endAgreement('g1', { status: 'revoked', at: 400, by: 'li', reason: 'x' })).toBe(true);
    expect(s.sharing.endAgreement('g1', { status: 'expired', at: 500, by: 'system', reason: 'y' })).toBe(false);
    expect(s.sharing.listAgreements({ departmentCode: 'mzj' }).map((a) => a.status)).toEqual(['revoked']);
    expect(s.sharing.listAgreements({ departmentCodes: ['sbj'] })).toEqual([]);

    const a1 = { kind: 'application_overdue', entityId: 'a1', departmentCode: 'gat', message: 'm', at: 1 } as const;
    const id = s.alerts.insert({ ...a1, severity: 'warning' });
    // One open alert per (kind, entity): the partial unique index refuses a second.
    expect(() => s.alerts.insert({ ...a1, message: 'm2', severity: 'warning' })).toThrow(/UNIQUE/);
    expect(s.alerts.open('application_overdue', 'a1')?.id).toBe(id);
    s.alerts.resolve(id, 5, 'answered');
    expect(s.alerts.open('application_overdue', 'a1')).toBeUndefined();
    s.alerts.insert({ ...a1, message: 'm3', at: 6, severity: 'critical' });
    expect(s.alerts.list().map((a) => [a.message, a.state, a.severity])).toEqual([
      ['m3', 'firing', 'critical'],
      ['m', 'resolved', 'warning'],
    ]);
    s.close();
  });
});

describe('store catalog', () => {
  it('catalog store - resources round-trip; a version is replaced in place; notifications filter by department', () => {
    const s = store();
    s.catalog.insert(resource);
    expect(s.catalog.get('R-1')).toEqual(resource);
    s.catalog.putVersion({
      resourceCode: 'R-1',
      version: 1,
      content: { ...resource },
      changedKeys: [],
      note: 'created',
      at: 10,
      by: 'li',
    });
    s.catalog.putVersion({
      resourceCode: 'R-1',
      version: 1,
      content: { ...resource, name: '人口2' },
      changedKeys: [],
      note: 'draft edited',
      at: 11,
      by: 'li',
    });
    s.catalog.putVersion({
      resourceCode: 'R-1',
      version: 2,
      content: { ...resource, name: '人口3' },
      changedKeys: ['name'],
      note: 'changed',
      at: 12,
      by: 'li',
    });
    expect(s.catalog.versions('R-1').map((v) => [v.version, v.content.name, v.note])).toEqual([
      [1, '人口2', 'draft edited'],
      [2, '人口3', 'changed'],
    ]);
    s.catalog.insertNotification({
      departmentCode: 'mzj',
      kind: 'resource.changed',
      resourceCode: 'R-1',
      version: 2,
      message: 'm',
      details: { changed: ['name'] },
      createdAt: 12,
    });
    expect(s.catalog.notifications({ departmentCode: 'mzj' })).toEqual([
      {
        id: 1,
        departmentCode: 'mzj',
        kind: 'resource.changed',
        resourceCode: 'R-1',
        version: 2,
        message: 'm',
        details: { changed: ['name'] },
        createdAt: 12,
      },
    ]);
    expect(s.catalog.notifications({ departmentCode: 'gat' })).toEqual([]);
    expect(s.catalog.byBinding('n1', 'population')).toEqual([]);
    expect(() => s.catalog.insert(resource)).toThrow(/UNIQUE|PRIMARY KEY/);
    s.close();
  });
});
