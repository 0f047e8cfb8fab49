// Tasks and the assignment sets derived from them. Invariants: every change to a node's tasks bumps
// that node's assignment_version in the same transaction; after commit, waiters of that node are woken,
// so a long-poll returns within one event-loop turn of the change.
import { invalid, notFound, XchgError, ErrorCode } from '../errors.js';
import { newId } from '../ids.js';
import type { Store, TaskKind, TaskRecord } from '../store/index.js';

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
  ) {}

  createTask(input: TaskInput): TaskRecord {
    const now = this.clock();
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
      this.store.tasks.insert(task);
      this.store.nodes.bumpAssignmentVersion(task.nodeId);
    });
    this.wake(task.nodeId);
    return task;
  }

  updateTask(id: string, patch: Partial<Pick<TaskRecord, 'name' | 'binding' | 'params' | 'intervalMs' | 'enabled' | 'peerNodeId'>>): TaskRecord {
    const updated = this.store.tx(() => {
      const cur = this.store.tasks.get(id);
      if (!cur) throw notFound('task', id);
      if (patch.peerNodeId) this.requireNode(patch.peerNodeId, 'peerNodeId');
      const t = this.store.tasks.update({ ...cur, ...patch }, this.clock());
      this.store.nodes.bumpAssignmentVersion(t.nodeId);
      return t;
    });
    this.wake(updated.nodeId);
    return updated;
  }

  deleteTask(id: string): void {
    const nodeId = this.store.tx(() => {
      const cur = this.store.tasks.get(id);
      if (!cur) throw notFound('task', id);
      this.store.tasks.softDelete(id, this.clock());
      this.store.nodes.bumpAssignmentVersion(cur.nodeId);
      return cur.nodeId;
    });
    this.wake(nodeId);
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
  async waitForChange(nodeId: string, knownVersion: number, timeoutMs: number, signal?: AbortSignal): Promise<AssignmentSet> {
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

  recordAck(nodeId: string, ack: { assignmentId: string; generation: number; outcome: 'applied' | 'rejected'; reason: string }): void {
    if (!ack.assignmentId) throw invalid('assignment_id', 'is required');
    this.store.nodes.upsertAck({ nodeId, ...ack, at: this.clock() });
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

  private wake(nodeId: string): void {
    for (const w of [...(this.waiters.get(nodeId) ?? [])]) w();
  }

  private requireNode(id: string, field: string): void {
    const n = this.store.nodes.get(id);
    if (!n) throw invalid(field, `node ${JSON.stringify(id)} not found`);
    if (!n.enabled) throw new XchgError(ErrorCode.FAILED_PRECONDITION, `${field}: node ${id} is disabled`, { field });
  }
}
