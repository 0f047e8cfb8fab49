// Who may act on and read the records of sharing (applications, agreements, subscriptions), shared by the
// services of services/sharing.ts. Each check throws the XchgError the caller sees.
import { actForProblem, Role, type Actor } from '../domain/roles.js';
import { ErrorCode, XchgError } from '../errors.js';
import type { PartyFilter, Resource, Store } from '../store/index.js';

/** Refuses an actor that may not act for `departmentCode`. */
export function mayAct(actor: Actor, departmentCode: string): void {
  const problem = actForProblem(actor, departmentCode);
  if (problem) throw new XchgError(ErrorCode.PERMISSION_DENIED, problem);
}

/** Officers read the records their department is a party to. */
export function mayRead(actor: Actor, r: { providerDepartmentCode: string; consumerDepartmentCode: string }): void {
  if (
    actor.role === Role.OFFICER &&
    actor.departmentCode !== r.providerDepartmentCode &&
    actor.departmentCode !== r.consumerDepartmentCode
  )
    throw new XchgError(
      ErrorCode.PERMISSION_DENIED,
      `officer ${actor.name} of ${actor.departmentCode ?? '(none)'} reads only records of its department`,
    );
}

/** A listing's filter narrowed to what the actor may read (an officer: its own department). */
export function readFilter<F extends PartyFilter>(filter: F, actor: Actor): F {
  if (actor.role !== Role.OFFICER) return filter;
  if (filter.departmentCode && filter.departmentCode !== actor.departmentCode)
    throw new XchgError(
      ErrorCode.PERMISSION_DENIED,
      `officer ${actor.name} of ${actor.departmentCode ?? '(none)'} reads only records of its department`,
      { field: 'department' },
    );
  return { ...filter, departmentCode: actor.departmentCode ?? '' };
}

/** The catalog resource `code`, or NOT_FOUND naming resourceCode. */
export function requireResource(store: Store, code: string): Resource {
  const r = store.catalog.get(code);
  if (!r)
    throw new XchgError(ErrorCode.NOT_FOUND, `resourceCode: resource ${JSON.stringify(code)} not found`, {
      field: 'resourceCode',
    });
  return r;
}
