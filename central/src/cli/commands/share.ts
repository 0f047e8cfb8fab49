// xchg share: applications for conditional resources (共享申请) and the agreements (共享协议) their approval
// creates — apply, list (with overdue ones marked), approve, reject with a reason, revoke.
import { Option, type Command } from 'commander';
import type { Alert } from '../../api/alerts.js';
import {
  AGREEMENT_STATES,
  APPLICATION_STATES,
  type AgreementView as Agreement,
  type ApplicationView as Application,
  type ApplyBody,
  type Approval,
  type ApproveBody,
  type ReasonBody,
} from '../../api/sharing.js';
import { action } from '../context.js';
import { formatAge, formatTime } from '../format.js';
import { renderFields, type Column } from '../output.js';
import { integerAtLeast, parseDate, parseList } from '../parse.js';
import { Directory } from './directory.js';
import type { Noun } from './noun.js';
import { defaulted } from '../help.js';

const appState = (a: Application): string => (a.overdue ? 'pending, OVERDUE' : a.status);

const appColumns = (dir: Directory, nowMs: number): readonly Column<Application>[] => [
  { header: 'id', value: (a) => a.id },
  { header: 'resource', value: (a) => a.resourceCode },
  { header: 'consumer', value: (a) => dir.department(a.consumerDepartmentCode) },
  { header: 'provider', value: (a) => dir.department(a.providerDepartmentCode) },
  { header: 'status', value: appState },
  { header: 'submitted', value: (a) => formatTime(a.submittedAt) },
  {
    header: 'deadline',
    value: (a) =>
      a.status === 'pending'
        ? `${formatTime(a.deadlineAt)} (${formatAge(a.deadlineAt, nowMs)})`
        : formatTime(a.deadlineAt),
  },
  { header: 'fields', value: (a) => (a.approvedFields ?? a.requestedFields).join(','), maxWidth: 40 },
];

const appFields = (a: Application, dir: Directory, nowMs: number): string =>
  renderFields([
    ['ID', a.id],
    ['Resource', `${a.resourceCode} (version ${a.resourceVersion})`],
    ['Consumer', dir.department(a.consumerDepartmentCode)],
    ['Provider', dir.department(a.providerDepartmentCode)],
    ['Applicant', a.applicant],
    ['Purpose', a.purpose],
    ['Requested', a.requestedFields.join(', ')],
    ['Status', appState(a)],
    ['Submitted', formatTime(a.submittedAt)],
    ['Deadline', `${formatTime(a.deadlineAt)} (${formatAge(a.deadlineAt, nowMs)})`],
    ['Answered', a.answeredAt ? `${formatTime(a.answeredAt)} by ${a.answeredBy ?? '-'}` : '-'],
    ['Reason', a.reason || '-'],
    ['Approved', a.approvedFields?.join(', ') ?? '-'],
    ['Agreement', a.agreementId ?? '-'],
  ]);

const agreementColumns = (dir: Directory): readonly Column<Agreement>[] => [
  { header: 'id', value: (a) => a.id },
  { header: 'resource', value: (a) => a.resourceCode },
  { header: 'consumer', value: (a) => dir.department(a.consumerDepartmentCode) },
  { header: 'provider', value: (a) => dir.department(a.providerDepartmentCode) },
  { header: 'state', value: (a) => a.state },
  { header: 'valid from', value: (a) => formatTime(a.validFrom) },
  { header: 'valid until', value: (a) => formatTime(a.validUntil) },
  { header: 'fields', value: (a) => a.fields.join(','), maxWidth: 40 },
];

const agreementFields = (a: Agreement, dir: Directory): string =>
  renderFields([
    ['ID', a.id],
    ['Application', a.applicationId],
    ['Resource', a.resourceCode],
    ['Consumer', dir.department(a.consumerDepartmentCode)],
    ['Provider', dir.department(a.providerDepartmentCode)],
    ['Fields', a.fields.join(', ')],
    ['Purpose', a.purpose],
    ['Valid', `${formatTime(a.validFrom)} – ${formatTime(a.validUntil)}`],
    ['State', a.state],
    ['Ended', a.endedAt ? `${formatTime(a.endedAt)} by ${a.endedBy ?? '-'}: ${a.endReason}` : '-'],
  ]);

const ALERT_COLUMNS: readonly Column<Alert>[] = [
  { header: 'at', value: (a) => formatTime(a.at) },
  { header: 'kind', value: (a) => a.kind },
  { header: 'entity', value: (a) => a.entityId },
  { header: 'department', value: (a) => a.departmentCode || '-' },
  { header: 'message', value: (a) => a.message },
];

export const share: Noun = {
  name: 'share',
  summary: 'applications and agreements 共享申请与协议',
  description:
    'Applications (共享申请) for conditional resources, answered by the provider within the deadline (10 working days ' +
    'by default), and the agreements (共享协议) approvals create. Unconditional resources need none: see xchg sub.',
  register(cmd: Command): void {
    shareApply(cmd);
    shareList(cmd);
    shareGet(cmd);
    shareApprove(cmd);
    shareReject(cmd);
    shareAgreements(cmd);
    shareRevoke(cmd);
    shareAlerts(cmd);
  },
};

function shareApply(cmd: Command): void {
  cmd
    .command('apply')
    .description('Apply for a conditional resource, declaring the purpose')
    .requiredOption('--resource <code>', 'resource code')
    .requiredOption('--purpose <text>', 'what the data is for (申请用途)')
    .addOption(defaulted('--fields <list>', 'fields asked for, comma-separated', 'all').argParser(parseList))
    .addOption(defaulted('--dept <code>', 'department that applies', 'your own, for an officer'))
    .action(
      action<{ resource: string; purpose: string; fields?: string[]; dept?: string }>(async (ctx, o) => {
        const a = await ctx.api.post<Application>(
          '/applications',
          {
            resourceCode: o.resource,
            purpose: o.purpose,
            ...(o.fields && { fields: o.fields }),
            ...(o.dept && { consumerDepartmentCode: o.dept }),
          } satisfies ApplyBody,
          { resourceCode: '--resource', purpose: '--purpose', fields: '--fields', consumerDepartmentCode: '--dept' },
        );
        const dir = await Directory.load(ctx, { departments: true });
        ctx.show(a, () => appFields(a, dir, ctx.nowMs));
      }),
    );
}
function shareList(cmd: Command): void {
  cmd
    .command('list')
    .description('List applications; overdue ones (pending past their deadline) are marked OVERDUE')
    .addOption(new Option('--status <status>', 'only pending, approved or rejected ones').choices(APPLICATION_STATES))
    .option('--resource <code>', 'only applications for this resource')
    .option('--dept <code>', 'only applications this department made or received')
    .option('--overdue', 'only overdue applications')
    .action(
      action<{ status?: string; resource?: string; dept?: string; overdue?: boolean }>(async (ctx, o) => {
        const [rows, dir] = await Promise.all([
          ctx.api.get<Application[]>('/applications', {
            status: o.status,
            resource: o.resource,
            department: o.dept,
            overdue: o.overdue ? 'true' : undefined,
          }),
          Directory.load(ctx, { departments: true }),
        ]);
        ctx.list(rows, appColumns(dir, ctx.nowMs), 'applications');
      }),
    );
}
function shareGet(cmd: Command): void {
  cmd
    .command('get')
    .description('Show one application')
    .argument('<id>', 'application id')
    .action(
      action(async (ctx, _o, id) => {
        const [a, dir] = await Promise.all([
          ctx.api.get<Application>(`/applications/${encodeURIComponent(id)}`),
          Directory.load(ctx, { departments: true }),
        ]);
        ctx.show(a, () => appFields(a, dir, ctx.nowMs));
      }),
    );
}
function shareApprove(cmd: Command): void {
  cmd
    .command('approve')
    .description('Approve a pending application: creates the agreement (协议)')
    .argument('<id>', 'application id')
    .addOption(
      defaulted('--fields <list>', 'fields granted, a subset of those requested', 'all requested').argParser(parseList),
    )
    .addOption(
      defaulted('--valid-days <n>', 'days the agreement is valid', "365 (central's)").argParser(integerAtLeast(1)),
    )
    .option('--valid-until <date>', 'last day of validity is the day before, e.g. 2026-12-31', parseDate)
    .option('--note <text>', 'a remark kept with the answer')
    .action(
      action<{ fields?: string[]; validDays?: number; validUntil?: number; note?: string }>(async (ctx, o, id) => {
        const r = await ctx.api.post<Approval>(
          `/applications/${encodeURIComponent(id)}/approve`,
          {
            ...(o.fields && { fields: o.fields }),
            ...(o.validDays !== undefined && { validDays: o.validDays }),
            ...(o.validUntil !== undefined && { validUntil: o.validUntil }),
            ...(o.note && { note: o.note }),
          } satisfies ApproveBody,
          { fields: '--fields', validDays: '--valid-days', validUntil: '--valid-until', note: '--note' },
        );
        const dir = await Directory.load(ctx, { departments: true });
        ctx.show(r, () => `approved application ${r.application.id}\n\n${agreementFields(r.agreement, dir)}`);
      }),
    );
}
function shareReject(cmd: Command): void {
  cmd
    .command('reject')
    .description('Reject a pending application; the reason is required and shown to the applicant')
    .argument('<id>', 'application id')
    .requiredOption('--reason <text>', 'why (拒绝理由)')
    .action(
      action<{ reason: string }>(async (ctx, o, id) => {
        const a = await ctx.api.post<Application>(
          `/applications/${encodeURIComponent(id)}/reject`,
          { reason: o.reason } satisfies ReasonBody,
          { reason: '--reason' },
        );
        const dir = await Directory.load(ctx, { departments: true });
        ctx.show(a, () => appFields(a, dir, ctx.nowMs));
      }),
    );
}
function shareAgreements(cmd: Command): void {
  cmd
    .command('agreements')
    .description('List agreements (共享协议)')
    .addOption(new Option('--status <status>', 'only active, revoked or expired ones').choices(AGREEMENT_STATES))
    .option('--resource <code>', 'only agreements for this resource')
    .option('--dept <code>', 'only agreements of this department (either side)')
    .action(
      action<{ status?: string; resource?: string; dept?: string }>(async (ctx, o) => {
        const [rows, dir] = await Promise.all([
          ctx.api.get<Agreement[]>('/agreements', { status: o.status, resource: o.resource, department: o.dept }),
          Directory.load(ctx, { departments: true }),
        ]);
        ctx.list(rows, agreementColumns(dir), 'agreements');
      }),
    );
}
function shareRevoke(cmd: Command): void {
  cmd
    .command('revoke')
    .description("Revoke an agreement: its flows stop with the agents' next poll")
    .argument('<agreement>', 'agreement id')
    .requiredOption('--reason <text>', 'why (kept in the audit log)')
    .action(
      action<{ reason: string }>(async (ctx, o, id) => {
        const a = await ctx.api.post<Agreement>(
          `/agreements/${encodeURIComponent(id)}/revoke`,
          { reason: o.reason } satisfies ReasonBody,
          { reason: '--reason' },
        );
        const dir = await Directory.load(ctx, { departments: true });
        ctx.show(a, () => agreementFields(a, dir));
      }),
    );
}
function shareAlerts(cmd: Command): void {
  cmd
    .command('alerts')
    .description(
      'Alarms, newest first: applications past their answer deadline (application_overdue), tasks a node refused (task_refused); every kind with state, severity and acknowledgement: xchg alert list',
    )
    .option(
      '--dept <code>',
      "only alarms of this department (the provider for overdue applications, the refusing node's for refused tasks)",
    )
    .option('--kind <kind>', 'only alarms of this kind, e.g. application_overdue, task_refused')
    .action(
      action<{ dept?: string; kind?: string }>(async (ctx, o) => {
        ctx.list(await ctx.api.get<Alert[]>('/alerts', { department: o.dept, kind: o.kind }), ALERT_COLUMNS, 'alerts');
      }),
    );
}
