// Tasks and the assignment sets derived from them. Invariants: every change to a node's tasks bumps
// that node's assignment_version in the same transaction; after commit, waiters of that node are woken,
// so a long-poll returns within one event-loop turn of the change. An enabled task that moves a catalog
// resource must be covered by it (share type, fields, an active agreement for conditional resources): the
// guard refuses it otherwise. Every change is written to the audit trail in its transaction. A node's
// refusal of a task's current generation raises one task_refused alert per generation, and the task reads
// refused (TaskView.state) until a later acknowledgement applies it.
import { taskGrantProblem } from '../domain/sharing.js';
import { SYSTEM_ACTOR, type Actor } from '../domain/roles.js';
import { invalid, notFound, XchgError, ErrorCode } from '../errors.js';
import { newId } from '../ids.js';
import { parseTaskParams, type TaskParams } from '../../../common/src/task-params.js';
import type { TaskRefusal, TaskState, TaskView } from '../api/tasks.js';
import type { Resource, Store, TaskKind, TaskRecord } from '../store/index.js';
import { ALERT_KINDS, alertParams, type AlertService } from './alerts.js';
import type { AuditTrail } from './audit.js';

export interface TaskInput {
  name: string;
  kind: TaskKind;
  nodeId: string;
  peerNodeId?: string | null;
  resourceCode?: string;
  subscriptionId?: string;
  binding: string;
  params?: Record<string, unknown>;
  intervalMs?: number;
  enabled?: boolean;
}

export interface AssignmentSet {
  version: number;
  tasks: TaskRecord[];
}

export class AssignmentService {
  private readonly waiters = new Map<string, Set<() => void>>();

  constructor(
    private readonly store: Store,
    private readonly clock: () => number,
    private readonly audit: AuditTrail,
    private readonly alerts: AlertService,
  ) {}

  createTask(input: TaskInput, actor: Actor = SYSTEM_ACTOR): TaskRecord {
    const now = this.clock();
    checkedParams(input.params ?? {});
    const task: TaskRecord = {
      id: newId('tsk'),
      name: input.name,
      kind: input.kind,
      nodeId: input.nodeId,
      peerNodeId: input.peerNodeId ?? null,
      resourceCode: input.resourceCode ?? '',
      subscriptionId: input.subscriptionId ?? '',
      binding: input.binding,
      params: input.params ?? {},
      intervalMs: input.intervalMs ?? 0,
      enabled: input.enabled ?? true,
      generation: 1,
      createdAt: now,
      updatedAt: now,
    };
    this.store.tx(() => {
      this.requireNode(input.nodeId, 'nodeId');
      if (task.peerNodeId) this.requireNode(task.peerNodeId, 'peerNodeId');
      const resource = this.guard(task);
      this.store.tasks.insert(task);
      this.store.nodes.bumpAssignmentVersion(task.nodeId);
      this.audit.record(actor, {
        action: 'task.create',
        entityType: 'task',
        entityId: task.id,
        ...this.parties(task, resource),
        details: {
          name: task.name,
          kind: task.kind,
          nodeId: task.nodeId,
          peerNodeId: task.peerNodeId,
          binding: task.binding,
          subscriptionId: task.subscriptionId,
          enabled: task.enabled,
          params: task.params,
        },
      });
    });
    this.wake(task.nodeId);
    return task;
  }

  updateTask(
    id: string,
    patch: Partial<Pick<TaskRecord, 'name' | 'binding' | 'params' | 'intervalMs' | 'enabled' | 'peerNodeId'>>,
    actor: Actor = SYSTEM_ACTOR,
  ): TaskRecord {
    if (patch.params !== undefined) checkedParams(patch.params);
    const updated = this.store.tx(() => {
      const cur = this.store.tasks.get(id);
      if (!cur) throw notFound('task', id);
      if (patch.peerNodeId) this.requireNode(patch.peerNodeId, 'peerNodeId');
      const resource = this.guard({ ...cur, ...patch });
      const t = this.store.tasks.update({ ...cur, ...patch }, this.clock());
      this.store.nodes.bumpAssignmentVersion(t.nodeId);
      this.audit.record(actor, {
        action: 'task.update',
        entityType: 'task',
        entityId: t.id,
        ...this.parties(t, resource),
        details: { generation: t.generation, changed: Object.keys(patch), ...patch },
      });
      return t;
    });
    this.wake(updated.nodeId);
    return updated;
  }

  deleteTask(id: string, actor: Actor = SYSTEM_ACTOR): void {
    const nodeId = this.store.tx(() => {
      const cur = this.store.tasks.get(id);
      if (!cur) throw notFound('task', id);
      this.store.tasks.softDelete(id, this.clock());
      this.store.nodes.bumpAssignmentVersion(cur.nodeId);
      this.audit.record(actor, {
        action: 'task.delete',
        entityType: 'task',
        entityId: id,
        ...this.parties(cur, this.store.catalog.get(cur.resourceCode)),
        details: { name: cur.name, kind: cur.kind },
      });
      return cur.nodeId;
    });
    this.wake(nodeId);
  }

  /**
   * The catalog resource an enabled task moves — named by its resourceCode — and a refusal when the task
   * is not covered by it. A sync task that names no resource but reads the binding of a published
   * conditional or not-shared resource is refused too (no side door). Tasks outside the catalog and
   * disabled tasks pass.
   */
  private guard(t: TaskRecord): Resource | undefined {
    const resource = t.resourceCode ? this.store.catalog.get(t.resourceCode) : undefined;
    if (!t.enabled) return resource;
    if (!resource && t.kind === 'sync') {
      // Only bindings of published resources that are not free to share: an unconditional or draft
      // resource does not stop the operator's own tasks on the same source.
      const carried = this.store.catalog
        .byBinding(t.nodeId, t.binding)
        .filter((r) => r.status === 'published' && r.shareType !== 'unconditional');
      if (carried.length)
        throw new XchgError(
          ErrorCode.PERMISSION_DENIED,
          `resourceCode: binding ${t.binding} of node ${t.nodeId} carries catalog resource ${carried.map((r) => r.code).join(', ')}; a task reading it names the resource`,
          { field: 'resourceCode' },
        );
    }
    if (!resource) return undefined;
    // Checked when written; a task stored before the contract existed is checked here when it would run.
    const params = checkedParams(t.params);
    const reads = (params.fields ?? []).map((f) => ({ column: f.name, published: f.as ?? f.name }));
    const fieldNames = [...reads.map((r) => r.published), ...(params.allowedFields ?? [])];
    const agreementId = params.agreementId ?? '';
    const dept = (id: string | null): string | null => (id ? (this.store.nodes.get(id)?.departmentCode ?? null) : null);
    const problem = taskGrantProblem(
      {
        kind: t.kind,
        nodeId: t.nodeId,
        binding: t.binding,
        nodeDepartmentCode: dept(t.nodeId) ?? '',
        peerDepartmentCode: dept(t.peerNodeId),
        fieldNames: [...new Set(fieldNames)],
        reads,
        agreementId,
      },
      resource,
      agreementId ? this.store.sharing.getAgreement(agreementId) : undefined,
      this.clock(),
    );
    if (problem)
      throw new XchgError(ErrorCode[problem.code], `${problem.field}: ${problem.problem}`, { field: problem.field });
    return resource;
  }

  /** Audit parties of a task: the provider side's department first, the consumer's as the peer. */
  private parties(
    t: TaskRecord,
    resource: Resource | undefined,
  ): { departmentCode: string; peerDepartmentCode: string; resourceCode: string } {
    const dept = (id: string | null): string => (id ? (this.store.nodes.get(id)?.departmentCode ?? '') : '');
    const [provider, consumer] = t.kind === 'sync' ? [t.nodeId, t.peerNodeId] : [t.peerNodeId, t.nodeId];
    return {
      departmentCode: dept(provider),
      peerDepartmentCode: dept(consumer),
      resourceCode: resource?.code ?? t.resourceCode,
    };
  }

  getTask(id: string): TaskRecord {
    const t = this.store.tasks.get(id);
    if (!t) throw notFound('task', id);
    return t;
  }

  listTasks(nodeIds?: readonly string[]): TaskRecord[] {
    return this.store.tasks.list(nodeIds ? { nodeIds } : {});
  }

  /** The node's full desired set at its current version (read in one transaction: version and set agree). */
  desired(nodeId: string): AssignmentSet {
    return this.store.db
      .transaction(() => {
        const node = this.store.nodes.get(nodeId);
        if (!node) throw notFound('node', nodeId);
        return { version: node.assignmentVersion, tasks: this.store.tasks.forNode(nodeId) };
      })
      .deferred();
  }

  /**
   * Resolves with the desired set once its version differs from `knownVersion`, or after `timeoutMs`
   * with the current set, or early when `signal` aborts (the caller went away).
   */
  async waitForChange(
    nodeId: string,
    knownVersion: number,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<AssignmentSet> {
    const first = this.desired(nodeId);
    if (first.version !== knownVersion) return first;
    await new Promise<void>((resolve) => {
      const set = this.waiters.get(nodeId) ?? new Set<() => void>();
      this.waiters.set(nodeId, set);
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        set.delete(done);
        if (set.size === 0) this.waiters.delete(nodeId);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      signal?.addEventListener('abort', done, { once: true });
      set.add(done);
    });
    return this.desired(nodeId);
  }

  /**
   * Records a node's acknowledgement of a task generation. A refusal of the current generation of a task
   * the node runs raises one task_refused alert per task generation (in the alerts of the governance sweep,
   * GET /alerts) and is written to the audit log; the task and its subscription read refused until a later
   * acknowledgement applies it (view(), SharingService.subscriptionView()).
   */
  recordAck(
    nodeId: string,
    ack: { assignmentId: string; generation: number; outcome: 'applied' | 'rejected'; reason: string },
  ): void {
    if (!ack.assignmentId) throw invalid('assignment_id', 'is required');
    const now = this.clock();
    this.store.tx(() => {
      this.store.nodes.upsertAck({ nodeId, ...ack, at: now });
      if (ack.outcome !== 'rejected') return;
      const t = this.store.tasks.get(ack.assignmentId);
      if (!t || t.nodeId !== nodeId || t.generation !== ack.generation) return;
      const node = this.store.nodes.get(nodeId);
      const where = t.subscriptionId ? `, subscription ${t.subscriptionId}` : '';
      const what = t.resourceCode ? ` of resource ${t.resourceCode}${where}` : where;
      const message = `node ${node?.name ?? nodeId} (${nodeId}) of ${node?.departmentCode ?? '?'} refused ${t.kind} task ${t.id}${what} at generation ${t.generation}: ${ack.reason}`;
      if (
        !this.alerts.raise({
          kind: ALERT_KINDS.TASK_REFUSED,
          entityId: `${t.id}@${t.generation}`,
          departmentCode: node?.departmentCode ?? '',
          message,
          params: alertParams(ALERT_KINDS.TASK_REFUSED, {
            node: node?.name ?? nodeId,
            department: node?.departmentCode ?? '',
            task: t.id,
            generation: t.generation,
            reason: ack.reason,
          }),
          at: now,
        })
      )
        return;
      this.audit.record(
        `node:${nodeId}`,
        {
          action: 'task.refused',
          entityType: 'task',
          entityId: t.id,
          ...this.parties(t, undefined),
          details: { generation: t.generation, nodeId, reason: ack.reason, subscriptionId: t.subscriptionId },
        },
        now,
      );
    });
  }

  /** The task with what its node made of the current generation (TaskState) and the refusal, if any. */
  view(t: TaskRecord): TaskView {
    const ack = this.store.nodes.ack(t.nodeId, t.id);
    const current = ack !== undefined && ack.generation === t.generation;
    const refused = current && ack.outcome === 'rejected';
    const state: TaskState = !t.enabled ? 'disabled' : refused ? 'refused' : current ? 'applied' : 'pending';
    const refusal: TaskRefusal | null =
      refused && t.enabled
        ? { taskId: t.id, kind: t.kind, nodeId: t.nodeId, generation: ack.generation, reason: ack.reason, at: ack.at }
        : null;
    return { ...t, state, refusal };
  }

  acks(nodeId: string): ReturnType<Store['nodes']['acks']> {
    return this.store.nodes.acks(nodeId);
  }

  /** Number of long-polls currently parked (for /metrics). */
  get parkedPolls(): number {
    let n = 0;
    for (const s of this.waiters.values()) n += s.size;
    return n;
  }

  /** Wakes every parked poll (used at shutdown so callers get an answer instead of a reset). */
  wakeAll(): void {
    for (const id of [...this.waiters.keys()]) this.wake(id);
  }

  /** Wakes a node's parked polls after a change to its set committed elsewhere (verification runs, services/reconcile.ts). */
  wakeNode(nodeId: string): void {
    this.wake(nodeId);
  }

  private wake(nodeId: string): void {
    for (const w of [...(this.waiters.get(nodeId) ?? [])]) w();
  }

  private requireNode(id: string, field: string): void {
    const n = this.store.nodes.get(id);
    if (!n) throw invalid(field, `node ${JSON.stringify(id)} not found`);
    if (!n.enabled) throw new XchgError(ErrorCode.FAILED_PRECONDITION, `${field}: node ${id} is disabled`, { field });
  }
}

/**
 * The params checked against their one contract (common/src/task-params.ts), or INVALID_ARGUMENT naming
 * each bad field (`params.fields[0].type: must be one of ...`).
 */
function checkedParams(params: unknown): TaskParams {
  const r = parseTaskParams(params);
  if (r.ok) return r.params;
  const problems = r.errors.map((e) =>
    e.startsWith('(params)') ? `params${e.slice('(params)'.length)}` : `params.${e}`,
  );
  const first = problems[0] ?? 'params';
  throw new XchgError(ErrorCode.INVALID_ARGUMENT, problems.join('; '), { field: first.slice(0, first.indexOf(':')) });
}
