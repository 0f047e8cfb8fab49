// Pure governance rules of central/src/domain: the working-day calendar (weekends, holidays, 调休), the
// catalog's rules and life cycle, the sharing rules and task guard, the audit hash chain, online rates
// and role scopes. No I/O; time is an argument.
import { describe, expect, it } from 'vitest';
import { CN_HOLIDAYS, CN_WORKDAYS } from '../../central/src/config.js';
import {
  canonicalJson,
  entryHash,
  GENESIS_HASH,
  verifyChain,
  type AuditBody,
  type AuditEntry,
} from '../../central/src/domain/audit.js';
import { WorkingCalendar } from '../../central/src/domain/calendar.js';
import {
  changedKeys,
  resourceProblem,
  taskFields,
  transitionProblem,
  type ResourceContent,
} from '../../central/src/domain/catalog.js';
import { nodeUptime, rate } from '../../central/src/domain/evaluation.js';
import { actForProblem, Role, roleScopeProblem } from '../../central/src/domain/roles.js';
import {
  accessFor,
  agreementStateAt,
  answeredOnTime,
  answerProblem,
  approvedFieldsProblem,
  isOverdue,
  taskGrantProblem,
  type GrantAgreement,
  type GrantResource,
  type TaskGrant,
} from '../../central/src/domain/sharing.js';

const H = 3_600_000;
const DAY = 24 * H;
/** An instant in China Standard Time (UTC+8): "2025-01-24 10:00". */
const cst = (s: string): number => Date.parse(`${s.replace(' ', 'T')}:00+08:00`);

describe('domain calendar', () => {
  const plain = new WorkingCalendar({ holidays: [], workdays: [], utcOffsetMinutes: 480 });
  const china = new WorkingCalendar({ holidays: CN_HOLIDAYS, workdays: CN_WORKDAYS, utcOffsetMinutes: 480 });

  it('calendar - weekdays work, weekends rest, and the local date is taken at UTC+8', () => {
    expect(plain.isWorkingDay('2025-01-03')).toBe(true); // Friday
    expect(plain.isWorkingDay('2025-01-04')).toBe(false); // Saturday
    expect(plain.isWorkingDay('2025-01-05')).toBe(false); // Sunday
    // 2025-01-03 20:00 UTC is already Saturday in Beijing.
    expect(plain.dateOf(Date.parse('2025-01-03T20:00:00Z'))).toBe('2025-01-04');
    expect(plain.startOf('2025-01-04')).toBe(Date.parse('2025-01-03T16:00:00Z'));
  });

  it('calendar - 10 working days from a Friday end with the Friday two weeks later; the day of receipt does not count', () => {
    const deadline = plain.deadline(cst('2025-01-03 10:00'), 10);
    expect(deadline).toBe(cst('2025-01-18 00:00')); // end of Friday 2025-01-17
    // Received late on Friday or early on Friday: the same deadline.
    expect(plain.deadline(cst('2025-01-03 23:59'), 10)).toBe(deadline);
    expect(plain.deadline(cst('2025-01-03 00:00'), 10)).toBe(deadline);
    expect(plain.deadline(cst('2025-01-03 10:00'), 1)).toBe(cst('2025-01-07 00:00')); // Monday
  });

  it('calendar - the Spring Festival holidays do not count and the 调休 Sunday and Saturday do', () => {
    // Received Friday 2025-01-24. Working days: Sun 26 (调休), Mon 27, [28 Jan – 4 Feb holiday], Wed 5,
    // Thu 6, Fri 7, Sat 8 (调休), Mon 10, Tue 11, Wed 12, Thu 13.
    expect(china.isWorkingDay('2025-01-26')).toBe(true);
    expect(china.isWorkingDay('2025-01-29')).toBe(false);
    expect(china.isWorkingDay('2025-02-08')).toBe(true);
    expect(china.deadline(cst('2025-01-24 15:30'), 10)).toBe(cst('2025-02-14 00:00'));
    // The same period with no holiday calendar ends two weeks earlier.
    expect(plain.deadline(cst('2025-01-24 15:30'), 10)).toBe(cst('2025-02-08 00:00'));
  });

  it('calendar - National Day: eight days off and the make-up Saturday after it', () => {
    // Received Tuesday 2025-09-30: Oct 1-8 rest, Thu 9, Fri 10, Sat 11 (调休) work.
    expect(china.deadline(cst('2025-09-30 09:00'), 3)).toBe(cst('2025-10-12 00:00'));
    expect(china.workingDaysBetween(cst('2025-09-30 09:00'), cst('2025-10-11 12:00'))).toBe(3);
  });

  it('calendar - a deadline of zero or a fraction of a day is refused', () => {
    expect(() => plain.deadline(0, 0)).toThrow(/at least 1/);
    expect(() => plain.deadline(0, 1.5)).toThrow(/whole number/);
  });

  it('calendar - the built-in lists are well-formed dates and no make-up day is also a holiday', () => {
    for (const d of [...CN_HOLIDAYS, ...CN_WORKDAYS])
      expect(new Date(`${d}T00:00:00Z`).toISOString().slice(0, 10)).toBe(d);
    expect(CN_WORKDAYS.filter((d) => CN_HOLIDAYS.includes(d))).toEqual([]);
    // Make-up days are weekends (otherwise they would be working days anyway).
    expect(CN_WORKDAYS.every((d) => [0, 6].includes(new Date(`${d}T00:00:00Z`).getUTCDay()))).toBe(true);
  });
});

const content = (over: Partial<ResourceContent> = {}): ResourceContent => ({
  name: '人口基础信息',
  description: '',
  fields: [
    { name: 'id', type: 'integer', description: '', required: true, sensitive: false },
    { name: 'id_no', type: 'string', description: '身份证号', required: true, sensitive: true, mask: 'idcard' },
    { name: 'phone', type: 'string', description: '', required: false, sensitive: true },
    { name: 'district', type: 'string', description: '', required: false, sensitive: false },
  ],
  format: 'table',
  shareType: 'conditional',
  conditions: '仅用于社会救助审核',
  legalBasis: '',
  shareMethods: ['database_sync'],
  updateCycle: 'daily',
  binding: 'population',
  providerNodeId: null,
  ...over,
});

describe('domain catalog', () => {
  it('catalog - a sound resource has no problem', () => {
    expect(resourceProblem(content())).toBeUndefined();
    expect(
      resourceProblem(
        content({
          shareType: 'not_shared',
          legalBasis: '《中华人民共和国保守国家秘密法》',
          shareMethods: [],
          conditions: '',
        }),
      ),
    ).toBeUndefined();
  });

  it('catalog - a conditional resource without conditions and a not-shared one without a legal basis are refused naming the field', () => {
    expect(resourceProblem(content({ conditions: '  ' }))).toEqual({
      field: 'conditions',
      problem: expect.stringMatching(/conditions of use/),
    });
    expect(resourceProblem(content({ shareType: 'not_shared', shareMethods: [], legalBasis: '' }))).toEqual({
      field: 'legalBasis',
      problem: expect.stringMatching(/law or regulation/),
    });
    expect(
      resourceProblem(content({ shareType: 'not_shared', legalBasis: '某法', shareMethods: ['database_sync'] }))?.field,
    ).toBe('shareMethods');
    expect(resourceProblem(content({ shareType: 'unconditional', shareMethods: [] }))?.field).toBe('shareMethods');
  });

  it('catalog - field problems name the field by index: bad name, duplicate, unknown mask, mask on a field that is not sensitive', () => {
    const f = content().fields;
    expect(resourceProblem(content({ fields: [] }))?.field).toBe('fields');
    expect(resourceProblem(content({ fields: [...f, { ...f[0]!, name: '1bad' }] }))?.field).toBe('fields[4].name');
    expect(resourceProblem(content({ fields: [...f, { ...f[0]! }] }))).toEqual({
      field: 'fields[4].name',
      problem: 'field id appears twice',
    });
    expect(resourceProblem(content({ fields: [{ ...f[1]!, mask: 'scramble' }] }))?.field).toBe('fields[0].mask');
    expect(resourceProblem(content({ fields: [{ ...f[3]!, mask: 'redact' }] }))).toEqual({
      field: 'fields[0].mask',
      problem: 'only a sensitive field is masked: set sensitive on district',
    });
  });

  it('catalog - life cycle: draft → published → retired; retired is final; nothing goes back', () => {
    expect(transitionProblem('draft', 'published')).toBeUndefined();
    expect(transitionProblem('published', 'retired')).toBeUndefined();
    expect(transitionProblem('draft', 'retired')).toBeUndefined();
    expect(transitionProblem('published', 'published')).toBe('it is already published');
    expect(transitionProblem('retired', 'published')).toMatch(/retired is final/);
    expect(transitionProblem('published', 'draft')).toMatch(/cannot become draft/);
  });

  it('catalog - changedKeys lists exactly the content that differs', () => {
    expect(changedKeys(content(), content())).toEqual([]);
    expect(changedKeys(content(), content({ name: '新名', updateCycle: 'hourly' }))).toEqual(['name', 'updateCycle']);
    const fewer = content().fields.slice(1);
    expect(changedKeys(content(), content({ fields: fewer }))).toEqual(['fields']);
  });

  it('catalog - task fields keep only approved fields in catalog order; sensitive ones use their own mask or redact', () => {
    expect(taskFields(content().fields, ['district', 'phone', 'id_no', 'id'])).toEqual([
      { name: 'id', type: 'integer', required: true },
      { name: 'id_no', type: 'string', required: true, mask: 'idcard' },
      { name: 'phone', type: 'string', required: false, mask: 'redact' },
      { name: 'district', type: 'string', required: false },
    ]);
    expect(taskFields(content().fields, ['id', 'district']).map((f) => f.name)).toEqual(['id', 'district']);
  });

  it('catalog - a field published under its own name reads its source column and is sent under the published name', () => {
    const f = content().fields;
    const published = [
      { ...f[0]! },
      { ...f[1]!, name: 'sfzh', column: 'id_no' },
      { ...f[3]!, name: 'xzqh', column: 'district' },
    ];
    expect(resourceProblem(content({ fields: published }))).toBeUndefined();
    expect(taskFields(published, ['xzqh', 'sfzh', 'id'])).toEqual([
      { name: 'id', type: 'integer', required: true },
      { name: 'id_no', as: 'sfzh', type: 'string', required: true, mask: 'idcard' },
      { name: 'district', as: 'xzqh', type: 'string', required: false },
    ]);
    // A source column published twice, or one that is not a column name, is refused naming the field.
    expect(resourceProblem(content({ fields: [...published, { ...f[2]!, name: 'dh', column: 'id_no' }] }))).toEqual({
      field: 'fields[3].column',
      problem: 'source column id_no is published twice',
    });
    expect(resourceProblem(content({ fields: [{ ...f[0]!, column: 'drop table' }] }))?.field).toBe('fields[0].column');
  });
});

describe('domain sharing', () => {
  const T0 = cst('2025-03-03 09:00');

  it('sharing - access by share type: subscribe, apply, or refused naming the legal basis', () => {
    expect(accessFor({ code: 'R1', shareType: 'unconditional', legalBasis: '' })).toEqual({ kind: 'subscribe' });
    expect(accessFor({ code: 'R1', shareType: 'conditional', legalBasis: '' })).toEqual({ kind: 'apply' });
    expect(accessFor({ code: 'R1', shareType: 'not_shared', legalBasis: '《统计法》第九条' })).toEqual({
      kind: 'refused',
      reason: 'resource R1 is not shared (不予共享); legal basis: 《统计法》第九条',
    });
  });

  it('sharing - an application is answered once; overdue only while pending and at or past its deadline', () => {
    expect(answerProblem('pending')).toBeUndefined();
    expect(answerProblem('approved')).toMatch(/already approved/);
    expect(answerProblem('rejected')).toMatch(/already rejected/);
    const deadlineAt = T0 + 10 * DAY;
    expect(isOverdue({ status: 'pending', deadlineAt }, deadlineAt - 1)).toBe(false);
    expect(isOverdue({ status: 'pending', deadlineAt }, deadlineAt)).toBe(true);
    expect(isOverdue({ status: 'approved', deadlineAt }, deadlineAt + DAY)).toBe(false);
    expect(answeredOnTime({ answeredAt: deadlineAt - 1, deadlineAt })).toBe(true);
    expect(answeredOnTime({ answeredAt: deadlineAt, deadlineAt })).toBe(false);
    expect(answeredOnTime({ answeredAt: null, deadlineAt })).toBeUndefined();
  });

  it('sharing - an agreement is active until validUntil, then reads expired; revoked stays revoked', () => {
    const a = { status: 'active' as const, validFrom: T0, validUntil: T0 + DAY };
    expect(agreementStateAt(a, T0 + DAY - 1)).toBe('active');
    expect(agreementStateAt(a, T0 + DAY)).toBe('expired');
    expect(agreementStateAt({ ...a, status: 'revoked' }, T0)).toBe('revoked');
  });

  it('sharing - approved fields are a non-empty subset of those requested', () => {
    expect(approvedFieldsProblem(['id', 'name'], ['id'])).toBeUndefined();
    expect(approvedFieldsProblem(['id', 'name'], [])).toMatch(/at least one field/);
    expect(approvedFieldsProblem(['id', 'name'], ['id', 'phone'])).toMatch(/not requested by the applicant: phone/);
  });

  describe('task guard', () => {
    const resource: GrantResource = {
      code: 'R-POP',
      status: 'published',
      shareType: 'conditional',
      legalBasis: '',
      providerDepartmentCode: 'gat',
      providerNodeId: 'n-gat',
      binding: 'population',
      fields: [{ name: 'id' }, { name: 'name' }, { name: 'phone' }],
    };
    const agreement: GrantAgreement = {
      id: 'agr-1',
      resourceCode: 'R-POP',
      consumerDepartmentCode: 'mzj',
      fields: ['id', 'name'],
      status: 'active',
      validFrom: T0,
      validUntil: T0 + DAY,
    };
    const sync: TaskGrant = {
      kind: 'sync',
      nodeId: 'n-gat',
      binding: 'population',
      nodeDepartmentCode: 'gat',
      peerDepartmentCode: 'mzj',
      fieldNames: ['id', 'name'],
      agreementId: 'agr-1',
    };
    const exchange: TaskGrant = {
      ...sync,
      kind: 'exchange',
      nodeId: 'n-mzj',
      binding: 'people',
      nodeDepartmentCode: 'mzj',
      peerDepartmentCode: 'gat',
    };

    it('task guard - the tasks of an active agreement with its fields pass', () => {
      expect(taskGrantProblem(sync, resource, agreement, T0)).toBeUndefined();
      expect(taskGrantProblem(exchange, resource, agreement, T0)).toBeUndefined();
    });

    it('task guard - a conditional resource without an agreement, with an ended one or beyond its fields is PERMISSION_DENIED', () => {
      expect(taskGrantProblem({ ...sync, agreementId: '' }, resource, undefined, T0)).toMatchObject({
        code: 'PERMISSION_DENIED',
        field: 'params.agreementId',
        problem: expect.stringMatching(/conditional/),
      });
      expect(taskGrantProblem(sync, resource, { ...agreement, status: 'revoked' }, T0)).toMatchObject({
        code: 'PERMISSION_DENIED',
        problem: 'agreement agr-1 is revoked',
      });
      expect(taskGrantProblem(sync, resource, agreement, T0 + DAY)).toMatchObject({
        problem: 'agreement agr-1 is expired',
      });
      expect(taskGrantProblem({ ...sync, fieldNames: ['id', 'name', 'phone'] }, resource, agreement, T0)).toMatchObject(
        { code: 'PERMISSION_DENIED', field: 'params.fields', problem: 'agreement agr-1 does not cover: phone' },
      );
      expect(taskGrantProblem({ ...exchange, nodeDepartmentCode: 'sbj' }, resource, agreement, T0)).toMatchObject({
        code: 'PERMISSION_DENIED',
        problem: 'agreement agr-1 is held by mzj, not by sbj',
      });
      expect(taskGrantProblem(sync, resource, { ...agreement, resourceCode: 'R-OTHER' }, T0)).toMatchObject({
        code: 'PERMISSION_DENIED',
      });
    });

    it('task guard - not shared, unpublished, wrong provider, wrong binding or no fields are refused', () => {
      expect(
        taskGrantProblem(sync, { ...resource, shareType: 'not_shared', legalBasis: '某法' }, agreement, T0),
      ).toMatchObject({ code: 'PERMISSION_DENIED', problem: expect.stringMatching(/legal basis: 某法/) });
      expect(taskGrantProblem(sync, { ...resource, status: 'retired' }, agreement, T0)).toMatchObject({
        code: 'FAILED_PRECONDITION',
      });
      expect(taskGrantProblem({ ...sync, nodeDepartmentCode: 'mzj' }, resource, agreement, T0)).toMatchObject({
        field: 'nodeId',
        problem: expect.stringMatching(/provided by gat/),
      });
      expect(taskGrantProblem({ ...sync, binding: 'other' }, resource, agreement, T0)).toMatchObject({
        field: 'binding',
      });
      expect(taskGrantProblem({ ...sync, fieldNames: [] }, resource, agreement, T0)).toMatchObject({
        field: 'params.fields',
        problem: expect.stringMatching(/names the fields/),
      });
      expect(taskGrantProblem({ ...sync, fieldNames: ['id', 'nope'] }, resource, agreement, T0)).toMatchObject({
        problem: 'not fields of resource R-POP: nope',
      });
    });

    it('task guard - a published field is read from its cataloged column only: another column under its name is refused', () => {
      const renamed: GrantResource = {
        ...resource,
        fields: [{ name: 'id' }, { name: 'xm', column: 'name' }, { name: 'phone' }],
      };
      const ag = { ...agreement, fields: ['id', 'xm'] };
      const reads = [
        { column: 'id', published: 'id' },
        { column: 'name', published: 'xm' },
      ];
      expect(taskGrantProblem({ ...sync, fieldNames: ['id', 'xm'], reads }, renamed, ag, T0)).toBeUndefined();
      // A task tampered to send the phone column as the approved field xm.
      const smuggled = [reads[0]!, { column: 'phone', published: 'xm' }];
      expect(taskGrantProblem({ ...sync, fieldNames: ['id', 'xm'], reads: smuggled }, renamed, ag, T0)).toEqual({
        code: 'INVALID_ARGUMENT',
        field: 'params.fields',
        problem: 'field xm of resource R-POP is read from column name, not phone',
      });
    });

    it('task guard - an unconditional resource needs no agreement', () => {
      expect(
        taskGrantProblem({ ...sync, agreementId: '' }, { ...resource, shareType: 'unconditional' }, undefined, T0),
      ).toBeUndefined();
    });
  });
});

describe('domain audit chain', () => {
  const body = (seq: number, over: Partial<AuditBody> = {}): AuditBody => ({
    seq,
    at: 1_700_000_000_000 + seq,
    actor: 'admin',
    action: 'resource.create',
    entityType: 'resource',
    entityId: `R-${seq}`,
    departmentCode: 'gat',
    peerDepartmentCode: '',
    resourceCode: `R-${seq}`,
    details: { version: 1, fields: ['id', '姓名'] },
    ...over,
  });
  const chain = (n: number): AuditEntry[] => {
    const out: AuditEntry[] = [];
    let prev = GENESIS_HASH;
    for (let i = 1; i <= n; i++) {
      const b = body(i);
      const hash = entryHash(prev, b);
      out.push({ ...b, prevHash: prev, hash });
      prev = hash;
    }
    return out;
  };

  it('audit chain - canonical JSON sorts keys at every depth and drops undefined members', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 2, y: undefined, x: '中' }], c: null } })).toBe(
      '{"a":{"c":null,"d":[1,{"x":"中","z":2}]},"b":1}',
    );
    expect(canonicalJson({ a: 1, b: 2 })).toBe(canonicalJson({ b: 2, a: 1 }));
  });

  it('audit chain - the hash is sha-256 of the previous hash and the canonical entry; key order does not matter', () => {
    const b = body(1);
    const h = entryHash(GENESIS_HASH, b);
    expect(h).toMatch(/^[0-9a-f]{64}$/);
    const reordered = Object.fromEntries(Object.entries(b).reverse()) as unknown as AuditBody;
    expect(entryHash(GENESIS_HASH, reordered)).toBe(h);
    expect(entryHash('1'.repeat(64), b)).not.toBe(h);
  });

  it('audit chain - an intact chain verifies with its head', () => {
    const c = chain(5);
    expect(verifyChain(c, { seq: 5, hash: c[4]!.hash })).toEqual({ ok: true, entries: 5, headHash: c[4]!.hash });
    expect(verifyChain([], { seq: 0, hash: GENESIS_HASH })).toEqual({ ok: true, entries: 0, headHash: GENESIS_HASH });
  });

  it('audit chain - a changed entry is named by its seq', () => {
    const c = chain(5);
    c[2] = { ...c[2]!, details: { version: 2, fields: ['id', '姓名'] } };
    expect(verifyChain(c).firstBroken).toEqual({
      seq: 3,
      problem: expect.stringMatching(/hash does not match the entry's content/),
    });
  });

  it('audit chain - an entry rewritten with a recomputed hash breaks the next link', () => {
    const c = chain(5);
    const forged = body(3, { actor: 'mallory' });
    c[2] = { ...forged, prevHash: c[1]!.hash, hash: entryHash(c[1]!.hash, forged) };
    expect(verifyChain(c).firstBroken).toEqual({
      seq: 4,
      problem: 'prev_hash does not match the hash of entry 3 (that entry or this link was changed)',
    });
  });

  it('audit chain - a removed entry, a removed last entry and a forged extra entry are named', () => {
    const c = chain(5);
    expect(verifyChain([...c.slice(0, 2), ...c.slice(3)]).firstBroken).toEqual({
      seq: 3,
      problem: 'entry 3 is missing (next present entry is 4)',
    });
    expect(verifyChain(c.slice(0, 4), { seq: 5, hash: c[4]!.hash }).firstBroken).toEqual({
      seq: 5,
      problem: expect.stringMatching(/chain head records 5 entries, the log holds 4/),
    });
    expect(verifyChain(c, { seq: 4, hash: c[3]!.hash }).firstBroken?.seq).toBe(5);
    expect(verifyChain([{ seq: 1, broken: 'details are not valid JSON' }]).firstBroken).toEqual({
      seq: 1,
      problem: 'details are not valid JSON',
    });
  });
});

describe('domain evaluation', () => {
  const T = 1_000_000;

  it('evaluation - online time runs from online to offline events inside the period', () => {
    const events = [
      { at: T, kind: 'enrolled' },
      { at: T + 10, kind: 'online' },
      { at: T + 40, kind: 'offline' },
      { at: T + 60, kind: 'online' },
    ];
    expect(nodeUptime(events, T, T, T + 100)).toEqual({ onlineMs: 30 + 40, observedMs: 100 });
    // A period starting while the node is online counts from the period's start.
    expect(nodeUptime(events, T, T + 20, T + 50)).toEqual({ onlineMs: 20, observedMs: 30 });
    // Before enrollment nothing is observed.
    expect(nodeUptime(events, T, T - 100, T + 10)).toEqual({ onlineMs: 0, observedMs: 10 });
    expect(nodeUptime([], T, T + 10, T + 5)).toEqual({ onlineMs: 0, observedMs: 0 });
  });

  it('evaluation - disabled and enabled events do not change liveness; rates round to 4 decimals', () => {
    const events = [
      { at: T + 10, kind: 'online' },
      { at: T + 20, kind: 'disabled' },
      { at: T + 30, kind: 'enabled' },
    ];
    expect(nodeUptime(events, T, T, T + 40)).toEqual({ onlineMs: 30, observedMs: 40 });
    expect(rate(1, 3)).toBe(0.3333);
    expect(rate(0, 0)).toBeNull();
  });
});

describe('domain roles', () => {
  it('roles - admins and operators act for any department; an officer only for its own; others for none', () => {
    expect(actForProblem({ name: 'admin', role: Role.PROVINCE_ADMIN }, 'gat')).toBeUndefined();
    expect(actForProblem({ name: 'op', role: Role.OPERATOR }, 'gat')).toBeUndefined();
    expect(actForProblem({ name: 'li', role: Role.OFFICER, departmentCode: 'gat' }, 'gat')).toBeUndefined();
    expect(actForProblem({ name: 'li', role: Role.OFFICER, departmentCode: 'gat' }, 'mzj')).toBe(
      'officer li acts for department gat only, not for mzj',
    );
    expect(actForProblem({ name: 'au', role: Role.AUDITOR }, 'gat')).toMatch(/role auditor may not act/);
    expect(actForProblem({ name: 'ca', role: Role.CITY_ADMIN, regionCode: '360100' }, 'gat')).toMatch(
      /role city_admin/,
    );
  });

  it('roles - a city admin needs a region and an officer a department; nobody else has either', () => {
    expect(roleScopeProblem(Role.CITY_ADMIN, {})?.field).toBe('regionCode');
    expect(roleScopeProblem(Role.OFFICER, {})?.field).toBe('departmentCode');
    expect(roleScopeProblem(Role.AUDITOR, { departmentCode: 'gat' })?.field).toBe('departmentCode');
    expect(roleScopeProblem(Role.OFFICER, { departmentCode: 'gat', regionCode: '360000' })?.field).toBe('regionCode');
    expect(roleScopeProblem(Role.OFFICER, { departmentCode: 'gat' })).toBeUndefined();
  });
});
