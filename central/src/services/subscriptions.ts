// Subscriptions (订阅): a consumer node subscribed to a resource, unconditionally or on an agreement, as a
// pair of tasks (sync at the provider, exchange at the consumer) carrying only the fields granted. The
// preconditions are decided by domain/subscription.ts. Invariant: a stopped flow's tasks are disabled in
// the same transaction, so the agents stop it with their next poll.
import type { SubscriptionView } from '../api/sharing.js';
import { taskFields } from '../domain/catalog.js';
import type { Actor } from '../domain/roles.js';
import { subscribePlan, type SubscribeFacts, type SubscribePlan } from '../domain/subscription.js';
import { ErrorCode, notFound, XchgError } from '../errors.js';
import { newId } from '../ids.js';
import type { Agreement, PartyFilter, Resource, Store, Subscription, TaskRecord } from '../store/index.js';
import type { TaskFilter, TaskParams } from '../../../common/src/task-params.js';
import type { AssignmentService } from './assignments.js';
import type { AuditTrail } from './audit.js';
import { mayAct, mayRead, readFilter } from './sharing-access.js';

export interface SubscribeInput {
  /** The resource; default the agreement's. */
  resourceCode?: string;
  /** The agreement the flow runs under (required for a conditional resource). */
  agreementId?: string;
  /** The consumer's node that receives the data. */
  consumerNodeId: string;
  /** Sink name in the consumer agent's config. */
  sinkBinding: string;
  /** Share method; default the resource's first. */
  method?: string;
  /** Poll interval of the tasks, in ms; default the agent's (0). */
  intervalMs?: number;
  /** Row filters of the flow (task params, common/src/task-params.ts). */
  filters?: TaskFilter[];
}

export class SubscriptionService {
  constructor(
    private readonly store: Store,
    private readonly clock: () => number,
    private readonly audit: AuditTrail,
    private readonly assignments: AssignmentService,
  ) {}

  /** Subscribes a consumer node to a resource: two tasks (sync at the provider, exchange at the consumer). */
  subscribe(input: SubscribeInput, actor: Actor): SubscriptionView {
    const now = this.clock();
    return this.store.tx(() => {
      const plan = subscribePlan(this.facts(input, actor), now);
      if (!plan.ok)
        throw new XchgError(ErrorCode[plan.code], plan.message, plan.field === undefined ? {} : { field: plan.field });
      const id = newId('sub');
      const { sync, exchange } = this.createTasks(id, plan, input, actor);
      const { resource: r, node: consumer } = plan;
      const s: Subscription = {
        id,
        resourceCode: r.code,
        agreementId: plan.agreement?.id ?? null,
        providerDepartmentCode: r.providerDepartmentCode,
        consumerDepartmentCode: consumer.departmentCode,
        providerNodeId: plan.providerNodeId,
        consumerNodeId: consumer.id,
        sinkBinding: input.sinkBinding,
        method: plan.method,
        fields: plan.fields,
        syncTaskId: sync.id,
        exchangeTaskId: exchange.id,
        status: 'active',
        createdAt: now,
        createdBy: actor.name,
        stoppedAt: null,
        stopReason: '',
      };
      this.store.sharing.insertSubscription(s);
      const { agreementId, consumerNodeId, sinkBinding, method, fields, syncTaskId, exchangeTaskId } = s;
      this.audit.record(
        actor,
        {
          action: 'subscription.create',
          entityType: 'subscription',
          entityId: id,
          departmentCode: r.providerDepartmentCode,
          peerDepartmentCode: consumer.departmentCode,
          resourceCode: r.code,
          details: { agreementId, consumerNodeId, sinkBinding, method, fields, syncTaskId, exchangeTaskId },
        },
        now,
      );
      return this.view(s);
    });
  }

  /** What subscribePlan decides on, looked up inside the caller's transaction. */
  private facts(input: SubscribeInput, actor: Actor): SubscribeFacts<Agreement, Resource> {
    const agreement = input.agreementId ? this.store.sharing.getAgreement(input.agreementId) : undefined;
    const code = input.resourceCode ?? agreement?.resourceCode;
    const resource = code ? this.store.catalog.get(code) : undefined;
    const node = this.store.nodes.get(input.consumerNodeId);
    const active =
      resource && node
        ? this.store.sharing.listSubscriptions({
            resourceCode: resource.code,
            status: 'active',
            consumerNodeId: node.id,
          })
        : [];
    return { request: input, actor, agreement, resource, node, active };
  }

  /** The subscription's two tasks, carrying only the fields granted (exchange first, as before). */
  private createTasks(
    id: string,
    plan: SubscribePlan<Agreement, Resource>,
    input: SubscribeInput,
    actor: Actor,
  ): { sync: TaskRecord; exchange: TaskRecord } {
    const { resource: r, agreement: ag, node: consumer, fields, providerNodeId } = plan;
    // What the agents enforce on their own (node-agent/src/policy/agreement.ts): the agreement, the fields
    // it covers, and its end, so a flow stops at expiry even while central cannot be reached.
    const params: TaskParams = {
      fields: taskFields(r.fields, fields),
      agreementId: ag?.id ?? '',
      allowedFields: fields,
      ...(ag && { agreementValidUntil: ag.validUntil }),
      ...(input.filters && { filters: input.filters }),
    };
    const common = {
      resourceCode: r.code,
      subscriptionId: id,
      params,
      ...(input.intervalMs !== undefined && { intervalMs: input.intervalMs }),
    };
    const name = `${r.code} → ${consumer.departmentCode}`;
    const exchange = this.assignments.createTask(
      {
        ...common,
        name: `${name} (receive)`,
        kind: 'exchange',
        nodeId: consumer.id,
        peerNodeId: providerNodeId,
        binding: input.sinkBinding,
      },
      actor,
    );
    const sync = this.assignments.createTask(
      {
        ...common,
        name: `${name} (send)`,
        kind: 'sync',
        nodeId: providerNodeId,
        peerNodeId: consumer.id,
        binding: r.binding,
      },
      actor,
    );
    return { sync, exchange };
  }

  /** Ends a subscription at the consumer's wish: its tasks are deleted. */
  unsubscribe(id: string, actor: Actor): SubscriptionView {
    const now = this.clock();
    return this.store.tx(() => {
      const s = this.store.sharing.getSubscription(id);
      if (!s) throw notFound('subscription', id);
      mayAct(actor, s.consumerDepartmentCode);
      const tasks = [s.exchangeTaskId, s.syncTaskId].filter((t) => this.store.tasks.get(t));
      if (s.status !== 'active' && tasks.length === 0)
        throw new XchgError(ErrorCode.FAILED_PRECONDITION, `subscription ${id} was already stopped: ${s.stopReason}`, {
          field: 'subscription',
        });
      for (const t of tasks) this.assignments.deleteTask(t, actor);
      if (s.status === 'active') this.store.sharing.stopSubscription(id, now, `deleted by ${actor.name}`);
      this.audit.record(
        actor,
        {
          action: 'subscription.delete',
          entityType: 'subscription',
          entityId: id,
          departmentCode: s.providerDepartmentCode,
          peerDepartmentCode: s.consumerDepartmentCode,
          resourceCode: s.resourceCode,
          details: { deletedTasks: tasks },
        },
        now,
      );
      return this.view(this.store.sharing.getSubscription(id)!);
    });
  }

  get(id: string, actor: Actor): SubscriptionView {
    const s = this.store.sharing.getSubscription(id);
    if (!s) throw notFound('subscription', id);
    mayRead(actor, s);
    return this.view(s);
  }

  list(
    filter: PartyFilter & { status?: 'active' | 'stopped'; agreementId?: string },
    actor: Actor,
  ): SubscriptionView[] {
    return this.store.sharing.listSubscriptions(readFilter(filter, actor)).map((s) => this.view(s));
  }

  /**
   * The subscription with the state of its flow: stopped by its status; else refused while a node refuses
   * the current generation of one of its tasks (the refusals name node, task and reason), pending while one
   * is not acknowledged yet, active when both are applied.
   */
  view(s: Subscription): SubscriptionView {
    if (s.status === 'stopped') return { ...s, state: 'stopped', refusals: [] };
    const tasks = [s.syncTaskId, s.exchangeTaskId].map((id) => this.store.tasks.get(id)).filter((t) => t !== undefined);
    const views = tasks.map((t) => this.assignments.view(t));
    const refusals = views.flatMap((v) => (v.refusal ? [v.refusal] : []));
    const state = refusals.length ? 'refused' : views.some((v) => v.state === 'pending') ? 'pending' : 'active';
    return { ...s, state, refusals };
  }

  /**
   * Stops an active subscription's flow: both tasks disabled (not deleted: they stay visible as what was
   * once allowed; the agents stop them with their next poll) and the subscription marked stopped with the
   * reason. Runs inside the caller's transaction.
   */
  stopFlow(s: Subscription, reason: string, actor: Actor, now: number = this.clock()): void {
    for (const t of [s.syncTaskId, s.exchangeTaskId])
      if (this.store.tasks.get(t)?.enabled) this.assignments.updateTask(t, { enabled: false }, actor);
    this.store.sharing.stopSubscription(s.id, now, reason);
    this.audit.record(
      actor,
      {
        action: 'subscription.stop',
        entityType: 'subscription',
        entityId: s.id,
        departmentCode: s.providerDepartmentCode,
        peerDepartmentCode: s.consumerDepartmentCode,
        resourceCode: s.resourceCode,
        details: { reason },
      },
      now,
    );
  }
}
