// Objections (疑义/纠错): a consumer department that received a resource flags data as wrong; the
// provider verifies (校核) and answers corrected or confirmed correct. Both steps are timed and audited.
import { actForProblem, Role, type Actor } from '../domain/roles.js';
import { ErrorCode, invalid, notFound, XchgError } from '../errors.js';
import { newId } from '../ids.js';
import type { Objection, ObjectionResult, Store } from '../store/index.js';
import type { AuditTrail } from './audit.js';

export interface RaiseInput {
  resourceCode: string;
  consumerDepartmentCode?: string;
  /** Key of the record concerned (e.g. "id=42"); empty for the resource as a whole. */
  recordKey?: string;
  note: string;
}

export class ObjectionService {
  constructor(
    private readonly store: Store,
    private readonly clock: () => number,
    private readonly audit: AuditTrail,
  ) {}

  raise(input: RaiseInput, actor: Actor): Objection {
    const now = this.clock();
    const consumer = input.consumerDepartmentCode ?? actor.departmentCode;
    if (!consumer)
      throw invalid(
        'consumerDepartmentCode',
        'required: name the department that raises the objection (you act for no department)',
      );
    const note = input.note.trim();
    return this.store.tx(() => {
      if (!this.store.regions.getDepartment(consumer))
        throw invalid('consumerDepartmentCode', `department ${JSON.stringify(consumer)} not found`);
      mayAct(actor, consumer);
      const r = this.store.catalog.get(input.resourceCode);
      if (!r)
        throw new XchgError(
          ErrorCode.NOT_FOUND,
          `resourceCode: resource ${JSON.stringify(input.resourceCode)} not found`,
          { field: 'resourceCode' },
        );
      if (
        this.store.sharing
          .listSubscriptions({ resourceCode: r.code, departmentCode: consumer })
          .every((s) => s.consumerDepartmentCode !== consumer)
      )
        throw new XchgError(
          ErrorCode.FAILED_PRECONDITION,
          `resourceCode: ${consumer} has never subscribed to ${r.code}; objections are about data received`,
          { field: 'resourceCode' },
        );
      if (!note) throw invalid('note', 'required: say what is wrong');
      const o: Objection = {
        id: newId('obj'),
        resourceCode: r.code,
        providerDepartmentCode: r.providerDepartmentCode,
        consumerDepartmentCode: consumer,
        recordKey: input.recordKey ?? '',
        note,
        raisedBy: actor.name,
        raisedAt: now,
        status: 'open',
        result: null,
        answerNote: '',
        answeredBy: null,
        answeredAt: null,
      };
      this.store.objections.insert(o);
      this.audit.record(
        actor,
        {
          action: 'objection.raise',
          entityType: 'objection',
          entityId: o.id,
          departmentCode: r.providerDepartmentCode,
          peerDepartmentCode: consumer,
          resourceCode: r.code,
          details: { recordKey: o.recordKey, note },
        },
        now,
      );
      return o;
    });
  }

  answer(id: string, input: { result: ObjectionResult; note: string }, actor: Actor): Objection {
    const now = this.clock();
    const note = input.note.trim();
    return this.store.tx(() => {
      const o = this.store.objections.get(id);
      if (!o) throw notFound('objection', id);
      mayAct(actor, o.providerDepartmentCode);
      if (o.status !== 'open')
        throw new XchgError(ErrorCode.FAILED_PRECONDITION, `objection ${id} was already answered (${o.result})`, {
          field: 'objection',
        });
      if (!note) throw invalid('note', 'required: say what was verified or corrected');
      this.store.objections.answer(id, { result: input.result, note, by: actor.name, at: now });
      this.audit.record(
        actor,
        {
          action: 'objection.answer',
          entityType: 'objection',
          entityId: id,
          departmentCode: o.providerDepartmentCode,
          peerDepartmentCode: o.consumerDepartmentCode,
          resourceCode: o.resourceCode,
          details: { result: input.result, note, raisedAt: o.raisedAt },
        },
        now,
      );
      return this.store.objections.get(id)!;
    });
  }

  list(filter: Parameters<Store['objections']['list']>[0], actor: Actor): Objection[] {
    if (actor.role === Role.OFFICER) {
      if (filter?.departmentCode && filter.departmentCode !== actor.departmentCode)
        throw new XchgError(
          ErrorCode.PERMISSION_DENIED,
          `officer ${actor.name} of ${actor.departmentCode ?? '(none)'} reads only records of its department`,
          { field: 'department' },
        );
      return this.store.objections.list({ ...filter, departmentCode: actor.departmentCode ?? '' });
    }
    return this.store.objections.list(filter);
  }
}

function mayAct(actor: Actor, departmentCode: string): void {
  const problem = actForProblem(actor, departmentCode);
  if (problem) throw new XchgError(ErrorCode.PERMISSION_DENIED, problem);
}
