// xchg objection: objections (疑义/纠错) — a consumer flags data it received as wrong; the provider verifies
// (校核) and answers corrected or confirmed correct. Times of both are kept.
import { Option, type Command } from 'commander';
import {
  OBJECTION_RESULTS,
  OBJECTION_STATES,
  type AnswerObjectionBody,
  type Objection,
  type ObjectionResult,
  type RaiseObjectionBody,
} from '../../api/objections.js';
import { action } from '../context.js';
import { formatDuration, formatTime } from '../format.js';
import { renderFields, type Column } from '../output.js';
import { Directory } from './directory.js';
import type { Noun } from './noun.js';
import { defaulted } from '../help.js';

const took = (o: Objection): string => (o.answeredAt ? formatDuration(o.answeredAt - o.raisedAt) : '-');

const columns = (dir: Directory): readonly Column<Objection>[] => [
  { header: 'id', value: (o) => o.id },
  { header: 'resource', value: (o) => o.resourceCode },
  { header: 'record', value: (o) => o.recordKey || '-' },
  { header: 'consumer', value: (o) => dir.department(o.consumerDepartmentCode) },
  { header: 'provider', value: (o) => dir.department(o.providerDepartmentCode) },
  { header: 'raised', value: (o) => formatTime(o.raisedAt) },
  { header: 'status', value: (o) => (o.result ? `${o.status}: ${o.result}` : o.status) },
  { header: 'took', value: took, align: 'right' },
  { header: 'note', value: (o) => o.note, maxWidth: 40 },
];

const fields = (o: Objection, dir: Directory): string =>
  renderFields([
    ['ID', o.id],
    ['Resource', o.resourceCode],
    ['Record', o.recordKey || '-'],
    ['Consumer', dir.department(o.consumerDepartmentCode)],
    ['Provider', dir.department(o.providerDepartmentCode)],
    ['Raised', `${formatTime(o.raisedAt)} by ${o.raisedBy}`],
    ['Note', o.note],
    ['Status', o.status],
    ['Result', o.result ?? '-'],
    ['Answer', o.answerNote || '-'],
    ['Answered', o.answeredAt ? `${formatTime(o.answeredAt)} by ${o.answeredBy ?? '-'} (after ${took(o)})` : '-'],
  ]);

export const objection: Noun = {
  name: 'objection',
  summary: 'objections 疑义/纠错',
  description:
    'Objections (疑义/纠错): a consumer department reports data it received as wrong; the provider verifies and answers.',
  register(cmd: Command): void {
    cmd
      .command('raise')
      .description('Raise an objection about data received from a resource')
      .requiredOption('--resource <code>', 'resource code')
      .requiredOption('--note <text>', 'what is wrong')
      .option('--key <key>', 'the record concerned, e.g. id=42')
      .addOption(defaulted('--dept <code>', 'department raising it', 'your own, for an officer'))
      .action(
        action<{ resource: string; note: string; key?: string; dept?: string }>(async (ctx, o) => {
          const r = await ctx.api.post<Objection>(
            '/objections',
            {
              resourceCode: o.resource,
              note: o.note,
              ...(o.key && { recordKey: o.key }),
              ...(o.dept && { consumerDepartmentCode: o.dept }),
            } satisfies RaiseObjectionBody,
            { resourceCode: '--resource', note: '--note', recordKey: '--key', consumerDepartmentCode: '--dept' },
          );
          const dir = await Directory.load(ctx, { departments: true });
          ctx.show(r, () => fields(r, dir));
        }),
      );

    cmd
      .command('list')
      .description('List objections')
      .option('--resource <code>', 'only objections about this resource')
      .option('--dept <code>', 'only objections of this department (consumer or provider)')
      .addOption(new Option('--status <status>', 'only open or answered ones').choices(OBJECTION_STATES))
      .action(
        action<{ resource?: string; dept?: string; status?: string }>(async (ctx, o) => {
          const [rows, dir] = await Promise.all([
            ctx.api.get<Objection[]>('/objections', { resource: o.resource, department: o.dept, status: o.status }),
            Directory.load(ctx, { departments: true }),
          ]);
          ctx.list(rows, columns(dir), 'objections');
        }),
      );

    cmd
      .command('answer')
      .description("The provider's answer after verification (校核)")
      .argument('<id>', 'objection id')
      .addOption(
        new Option('--result <result>', 'corrected or confirmed_correct')
          .choices(OBJECTION_RESULTS)
          .makeOptionMandatory(),
      )
      .requiredOption('--note <text>', 'what was verified or corrected')
      .action(
        action<{ result: ObjectionResult; note: string }>(async (ctx, o, id) => {
          const r = await ctx.api.post<Objection>(
            `/objections/${encodeURIComponent(id)}/answer`,
            { result: o.result, note: o.note } satisfies AnswerObjectionBody,
            { result: '--result', note: '--note' },
          );
          const dir = await Directory.load(ctx, { departments: true });
          ctx.show(r, () => fields(r, dir));
        }),
      );
  },
};
