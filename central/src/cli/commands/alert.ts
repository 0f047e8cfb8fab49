// xchg alert: alerts (告警) — list with filters, show one, acknowledge (确认) with a note. An alert is firing,
// acknowledged or resolved (已恢复); severity info, warning or critical. `xchg share alerts` lists the same.
import { Option, type Command } from 'commander';
import { ALERT_SEVERITIES, ALERT_STATES, type AckAlertBody, type Alert } from '../../api/alerts.js';
import { action } from '../context.js';
import { defaulted } from '../help.js';
import { formatTime } from '../format.js';
import { renderFields, type Column } from '../output.js';
import { integerAtLeast } from '../parse.js';
import type { Noun } from './noun.js';

const state = (a: Alert): string => (a.count > 1 ? `${a.state} (×${a.count})` : a.state);

const columns: readonly Column<Alert>[] = [
  { header: 'id', value: (a) => String(a.id), align: 'right' },
  { header: 'started', value: (a) => formatTime(a.startedAt) },
  { header: 'severity', value: (a) => a.severity },
  { header: 'state', value: state },
  { header: 'kind', value: (a) => a.kind },
  { header: 'entity', value: (a) => a.entityId },
  { header: 'department', value: (a) => a.departmentCode || '-' },
  { header: 'message', value: (a) => a.message, maxWidth: 60 },
];

const fields = (a: Alert): string =>
  renderFields([
    ['ID', String(a.id)],
    ['Kind', a.kind],
    ['Entity', a.entityId],
    ['Department', a.departmentCode || '-'],
    ['Severity', a.severity],
    ['State', a.state],
    ['Message', a.message],
    ['Started', formatTime(a.startedAt)],
    ['Last seen', `${formatTime(a.lastSeenAt)} (seen ${a.count} time${a.count === 1 ? '' : 's'})`],
    [
      'Acknowledged',
      a.acknowledgement
        ? `${formatTime(a.acknowledgement.at)} by ${a.acknowledgement.by}${a.acknowledgement.note ? `: ${a.acknowledgement.note}` : ''}`
        : '-',
    ],
    ['Ended', a.endedAt !== null ? `${formatTime(a.endedAt)} (${a.endReason})` : '-'],
  ]);

const idPath = (id: string): string => `/alerts/${encodeURIComponent(id)}`;

export const alert: Noun = {
  name: 'alert',
  summary: 'alerts 告警',
  description:
    'Alerts (告警): node offline, spool backlog, task failing, quarantine growing, center unreachable, application ' +
    'overdue, surge detected, data-quality drift. Each is firing until acknowledged (确认) or resolved (已恢复); ' +
    'one firing again while open is counted, not repeated.',
  register(cmd: Command): void {
    cmd
      .command('list')
      .description('List alerts, newest first')
      .addOption(
        new Option('--state <state>', 'only alerts in this state (open: firing or acknowledged)').choices([
          ...ALERT_STATES,
          'open',
        ]),
      )
      .addOption(new Option('--severity <severity>', 'only alerts of this severity').choices(ALERT_SEVERITIES))
      .option('--kind <kind>', 'only alerts of this kind, e.g. node_offline, spool_backlog')
      .option('--dept <code>', 'only alerts of this department')
      .addOption(defaulted('--limit <n>', 'at most this many', '1000').argParser(integerAtLeast(1)))
      .action(
        action<{ state?: string; severity?: string; kind?: string; dept?: string; limit?: number }>(async (ctx, o) => {
          const rows = await ctx.api.get<Alert[]>('/alerts', {
            state: o.state,
            severity: o.severity,
            kind: o.kind,
            department: o.dept,
            limit: o.limit,
          });
          ctx.list(rows, columns, 'alerts');
        }),
      );

    cmd
      .command('show')
      .description('Show one alert: severity, state, start, last seen, acknowledgement, end')
      .argument('<id>', 'alert id')
      .action(
        action(async (ctx, _o, id) => {
          const a = await ctx.api.get<Alert>(idPath(id));
          ctx.show(a, () => fields(a));
        }),
      );

    cmd
      .command('ack')
      .description('Acknowledge (确认) an open alert: you take it; it stays open until its condition clears')
      .argument('<id>', 'alert id')
      .option('--note <text>', 'what is being done')
      .action(
        action<{ note?: string }>(async (ctx, o, id) => {
          const a = await ctx.api.post<Alert>(
            `${idPath(id)}/ack`,
            { ...(o.note !== undefined && { note: o.note }) } satisfies AckAlertBody,
            { note: '--note' },
          );
          ctx.show(a, () => fields(a));
        }),
      );
  },
};
