// The subscribe preconditions (central/src/domain/subscription.ts), pure: facts and `now` in, a plan or
// the first typed refusal out, in the documented order. No store, no clock.
import { describe, expect, it } from 'vitest';
import { Role, type Actor } from '../../central/src/domain/roles.js';
import {
  subscribePlan,
  type SubscribeAgreement,
  type SubscribeFacts,
  type SubscribeResource,
} from '../../central/src/domain/subscription.js';

const NOW = 1_750_000_000_000;
const OPERATOR: Actor = { name: 'op', role: Role.OPERATOR };

const resource = (over: Partial<SubscribeResource> = {}): SubscribeResource => ({
  code: 'R-POP',
  status: 'published',
  shareType: 'conditional',
  legalBasis: '',
  providerDepartmentCode: 'gat',
  providerNodeId: 'nd-gat',
  binding: 'population',
  shareMethods: ['database_sync', 'file_transfer'],
  fields: [{ name: 'id' }, { name: 'sfzh' }, { name: 'xm' }],
  ...over,
});
const agreement = (over: Partial<SubscribeAgreement> = {}): SubscribeAgreement => ({
  id: 'agr-1',
  resourceCode: 'R-POP',
  consumerDepartmentCode: 'mzj',
  fields: ['id', 'xm'],
  status: 'active',
  validFrom: NOW - 1000,
  validUntil: NOW + 1000,
  ...over,
});
const facts = (over: Partial<SubscribeFacts> = {}): SubscribeFacts => ({
  request: { agreementId: 'agr-1', consumerNodeId: 'nd-mzj', sinkBinding: 'people' },
  actor: OPERATOR,
  agreement: agreement(),
  resource: resource(),
  node: { id: 'nd-mzj', departmentCode: 'mzj' },
  active: [],
  ...over,
});
const refusal = (f: SubscribeFacts, now = NOW) => {
  const r = subscribePlan(f, now);
  return r.ok ? r : [r.code, r.field, r.message];
};

describe('domain subscription', () => {
  it('subscription - on an active agreement: the agreement fields, the first share method, both ends', () => {
    const r = subscribePlan(facts(), NOW);
    expect(r).toEqual({
      ok: true,
      agreement: agreement(),
      resource: resource(),
      providerNodeId: 'nd-gat',
      node: { id: 'nd-mzj', departmentCode: 'mzj' },
      method: 'database_sync',
      fields: ['id', 'xm'],
    });
  });

  it('subscription - unconditional without an agreement: every field; a method it is shared by', () => {
    const r = subscribePlan(
      facts({
        request: { resourceCode: 'R-POP', consumerNodeId: 'nd-mzj', sinkBinding: 'people', method: 'file_transfer' },
        agreement: undefined,
        resource: resource({ shareType: 'unconditional' }),
      }),
      NOW,
    );
    expect(r.ok && [r.fields, r.method, r.agreement]).toEqual([['id', 'sfzh', 'xm'], 'file_transfer', undefined]);
  });

  it('subscription - the agreement is checked first: named but missing, expired at now, revoked, for another resource', () => {
    expect(refusal(facts({ agreement: undefined }))).toEqual([
      'NOT_FOUND',
      'agreementId',
      'agreementId: agreement "agr-1" not found',
    ]);
    expect(refusal(facts(), NOW + 1000)).toEqual([
      'FAILED_PRECONDITION',
      'agreementId',
      'agreementId: agreement agr-1 is expired; apply again',
    ]);
    expect(refusal(facts({ agreement: agreement({ status: 'revoked' }) }))).toEqual([
      'FAILED_PRECONDITION',
      'agreementId',
      'agreementId: agreement agr-1 is revoked; apply again',
    ]);
    expect(refusal(facts({ request: { ...facts().request, resourceCode: 'R-OTHER' } }))).toEqual([
      'INVALID_ARGUMENT',
      'resourceCode',
      'resourceCode: agreement agr-1 is for resource R-POP, not R-OTHER',
    ]);
    // An agreement that is expired at now is refused even when the node is unknown too (first problem wins).
    expect(refusal(facts({ node: undefined }), NOW + 5000)).toEqual([
      'FAILED_PRECONDITION',
      'agreementId',
      'agreementId: agreement agr-1 is expired; apply again',
    ]);
  });

  it('subscription - then the resource: named, found, published, shared, conditional only on an agreement', () => {
    const noAg = { request: { consumerNodeId: 'nd-mzj', sinkBinding: 'people' }, agreement: undefined };
    expect(refusal(facts(noAg))).toEqual([
      'INVALID_ARGUMENT',
      'resourceCode',
      'resourceCode: required: name the resource (or the agreement it is granted by)',
    ]);
    const byCode = {
      request: { resourceCode: 'R-POP', consumerNodeId: 'nd-mzj', sinkBinding: 'people' },
      agreement: undefined,
    };
    expect(refusal(facts({ ...byCode, resource: undefined }))).toEqual([
      'NOT_FOUND',
      'resourceCode',
      'resourceCode: resource "R-POP" not found',
    ]);
    expect(refusal(facts({ ...byCode, resource: resource({ status: 'retired' }) }))).toEqual([
      'FAILED_PRECONDITION',
      'resourceCode',
      'resourceCode: resource R-POP is retired; only a published resource is subscribed to',
    ]);
    expect(
      refusal(facts({ ...byCode, resource: resource({ shareType: 'not_shared', legalBasis: '《档案法》' }) })),
    ).toEqual([
      'PERMISSION_DENIED',
      'resourceCode',
      'resourceCode: resource R-POP is not shared (不予共享); legal basis: 《档案法》',
    ]);
    expect(refusal(facts(byCode))).toEqual([
      'FAILED_PRECONDITION',
      'agreementId',
      'agreementId: resource R-POP is conditional (有条件共享): apply for it and subscribe on the agreement its approval creates',
    ]);
  });

  it('subscription - then the node: found, the actor acts for it, it holds the agreement; then binding, method, duplicates', () => {
    expect(refusal(facts({ node: undefined }))).toEqual([
      'INVALID_ARGUMENT',
      'consumerNodeId',
      'consumerNodeId: node "nd-mzj" not found',
    ]);
    const officer: Actor = { name: 'li', role: Role.OFFICER, departmentCode: 'gat' };
    expect(refusal(facts({ actor: officer }))).toEqual([
      'PERMISSION_DENIED',
      undefined,
      'officer li acts for department gat only, not for mzj',
    ]);
    expect(refusal(facts({ node: { id: 'nd-x', departmentCode: 'jyj' } }))).toEqual([
      'PERMISSION_DENIED',
      'consumerNodeId',
      'consumerNodeId: node nd-x belongs to jyj; agreement agr-1 is held by mzj',
    ]);
    expect(refusal(facts({ resource: resource({ providerNodeId: null }) }))).toEqual([
      'FAILED_PRECONDITION',
      'resourceCode',
      'resource R-POP names no provider node and binding yet; its provider sets providerNodeId and binding',
    ]);
    expect(refusal(facts({ request: { ...facts().request, method: 'online_query' } }))).toEqual([
      'INVALID_ARGUMENT',
      'method',
      'method: resource R-POP is shared by database_sync, file_transfer, not online_query',
    ]);
    expect(
      refusal(
        facts({
          active: [
            { id: 'sub-9', sinkBinding: 'other' },
            { id: 'sub-1', sinkBinding: 'people' },
          ],
        }),
      ),
    ).toEqual(['ALREADY_EXISTS', 'subscription', 'subscription "R-POP → nd-mzj/people (sub-1)" already exists']);
    expect(subscribePlan(facts({ active: [{ id: 'sub-9', sinkBinding: 'other' }] }), NOW).ok).toBe(true);
  });
});
