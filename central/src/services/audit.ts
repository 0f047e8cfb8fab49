// The audit trail (事前审批 · 事中留痕 · 事后追溯): every service records its changes here inside the
// transaction that makes them, so a change and its entry commit or roll back together. Entries are
// sealed into the hash chain (domain/audit.ts) against the stored chain head.
import type { AuditVerdict } from '../api/audit.js';
import { entryHash, verifyChain, type AuditBody, type AuditEntry } from '../domain/audit.js';
import type { Actor } from '../domain/roles.js';
import type { AuditFilter, Store } from '../store/index.js';

export interface AuditInput {
  action: string;
  entityType: string;
  entityId: string;
  departmentCode?: string;
  peerDepartmentCode?: string;
  resourceCode?: string;
  details?: Record<string, unknown>;
}

export class AuditTrail {
  constructor(
    private readonly store: Store,
    private readonly clock: () => number,
  ) {}

  /** Appends an entry; call inside the store transaction of the change (it throws outside one). */
  record(actor: Actor | string, input: AuditInput, at: number = this.clock()): AuditEntry {
    if (!this.store.db.inTransaction)
      throw new Error('audit entries are written inside the transaction of the change they record');
    const head = this.store.audit.head();
    const body: AuditBody = {
      seq: head.seq + 1,
      at,
      actor: typeof actor === 'string' ? actor : actor.name,
      action: input.action,
      entityType: input.entityType,
      entityId: input.entityId,
      departmentCode: input.departmentCode ?? '',
      peerDepartmentCode: input.peerDepartmentCode ?? '',
      resourceCode: input.resourceCode ?? '',
      // Round-trip through JSON so the stored details and the hashed ones are the same value.
      details: JSON.parse(JSON.stringify(input.details ?? {})) as Record<string, unknown>,
    };
    const entry: AuditEntry = { ...body, prevHash: head.hash, hash: entryHash(head.hash, body) };
    this.store.audit.append(entry);
    return entry;
  }

  list(filter: AuditFilter = {}): AuditEntry[] {
    return this.store.audit.list(filter);
  }

  /** Recomputes the whole chain in one read transaction; names the first broken entry. */
  verify(): AuditVerdict {
    const verdict = this.store.db
      .transaction(() => verifyChain(this.store.audit.walk(), this.store.audit.head()))
      .deferred();
    return { ...verdict, checkedAt: this.clock() };
  }
}
