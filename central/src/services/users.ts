// Users of the HTTP API: created by the province administrator with a role and scope; each gets a bearer
// token shown once (stored as its sha-256); a revoked user's token stops working at once.
import type { IssuedUser } from '../api/users.js';
import { RESERVED_NAMES, Role, roleScopeProblem, type Actor } from '../domain/roles.js';
import { alreadyExists, invalid, notFound, ErrorCode, XchgError } from '../errors.js';
import { hashSecret, newId, newSecret, secretMatches } from '../ids.js';
import type { Store, User } from '../store/index.js';
import type { AuditTrail } from './audit.js';

export interface UserInput {
  name: string;
  role: Role;
  regionCode?: string | null;
  departmentCode?: string | null;
}

export class UserService {
  constructor(
    private readonly store: Store,
    private readonly clock: () => number,
    private readonly audit: AuditTrail,
  ) {}

  create(input: UserInput, actor: Actor): IssuedUser {
    const name = input.name.trim();
    if (!name) throw invalid('name', 'must not be blank');
    if (RESERVED_NAMES.includes(name.toLowerCase())) throw invalid('name', `${JSON.stringify(name)} is reserved`);
    const scope = { regionCode: input.regionCode ?? null, departmentCode: input.departmentCode ?? null };
    const problem = roleScopeProblem(input.role, scope);
    if (problem) throw invalid(problem.field, problem.problem);
    const token = newSecret('xut_');
    const now = this.clock();
    const user: User = {
      id: newId('usr'),
      name,
      role: input.role,
      ...scope,
      createdAt: now,
      createdBy: actor.name,
      revokedAt: null,
    };
    this.store.tx(() => {
      if (this.store.users.byName(name)) throw alreadyExists('user', name);
      if (scope.regionCode && !this.store.regions.get(scope.regionCode))
        throw invalid('regionCode', `region ${JSON.stringify(scope.regionCode)} not found`);
      if (scope.departmentCode && !this.store.regions.getDepartment(scope.departmentCode))
        throw invalid('departmentCode', `department ${JSON.stringify(scope.departmentCode)} not found`);
      this.store.users.insert({ ...user, tokenHash: hashSecret(token) });
      this.audit.record(actor, {
        action: 'user.create',
        entityType: 'user',
        entityId: user.id,
        departmentCode: scope.departmentCode ?? '',
        details: { name, role: user.role, regionCode: scope.regionCode, departmentCode: scope.departmentCode },
      });
    });
    return { token, user };
  }

  revoke(id: string, actor: Actor): User {
    return this.store.tx(() => {
      const u = this.store.users.get(id) ?? this.store.users.byName(id);
      if (!u) throw notFound('user', id);
      if (u.revokedAt !== null)
        throw new XchgError(ErrorCode.FAILED_PRECONDITION, `user ${u.name} was already revoked`, { field: 'user' });
      this.store.users.revoke(u.id, this.clock());
      this.audit.record(actor, {
        action: 'user.revoke',
        entityType: 'user',
        entityId: u.id,
        departmentCode: u.departmentCode ?? '',
        details: { name: u.name, role: u.role },
      });
      return this.store.users.get(u.id)!;
    });
  }

  list(): User[] {
    return this.store.users.list();
  }

  /** The actor a user token stands for, or undefined when no live user holds it. */
  authenticate(token: string): Actor | undefined {
    if (!token.startsWith('xut_')) return undefined;
    const hash = hashSecret(token);
    const found = this.store.users.byTokenHash(hash);
    // The lookup is by hash; the comparison is still constant-time, as for node secrets.
    if (!found || !secretMatches(token, found.tokenHash) || found.user.revokedAt !== null) return undefined;
    const u = found.user;
    return {
      name: u.name,
      role: u.role,
      ...(u.regionCode && { regionCode: u.regionCode }),
      ...(u.departmentCode && { departmentCode: u.departmentCode }),
    };
  }
}
