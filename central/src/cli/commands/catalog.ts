// xchg catalog: the resource catalog (信息资源目录) — cataloging, publishing, maintenance and retirement of
// the resources departments hold, their versions, and the notices consumers receive when one changes.
import { InvalidArgumentError, Option, type Command } from 'commander';
import {
  FIELD_TYPES,
  RESOURCE_STATES,
  SHARE_TYPES,
  UPDATE_CYCLES,
  type Notification,
  type Resource,
  type ResourceDetail,
  type ResourceField,
  type ResourceVersion,
} from '../../api/catalog.js';
import { action, type Context } from '../context.js';
import { usageError } from '../errors.js';
import { formatTime, yesNo } from '../format.js';
import { renderFields, renderSection, renderTable, type Column } from '../output.js';
import { parseList, parseTime } from '../parse.js';
import { Directory } from './directory.js';
import type { Noun } from './noun.js';
import { defaulted } from '../help.js';

const SHARE_LABEL: Record<string, string> = {
  unconditional: '无条件 unconditional',
  conditional: '有条件 conditional',
  not_shared: '不予共享 not_shared',
};

const FIELD_HELP =
  'a field as NAME:TYPE[:FLAGS], FLAGS comma-separated: required, sensitive, mask=RULE, column=SOURCE_COLUMN (when it differs from NAME), desc=TEXT (last); ' +
  `TYPE one of ${FIELD_TYPES.join(', ')}; repeat for each field, e.g. --field id:integer:required --field sfzh:string:required,sensitive,mask=idcard,column=id_no`;

/** "id_no:string:required,sensitive,mask=keep:3:4,desc=身份证号" → a field of the API. */
export function parseFieldSpec(text: string, previous: Record<string, unknown>[] = []): Record<string, unknown>[] {
  const [name, type, ...rest] = text.split(':');
  if (!name || !type) throw new InvalidArgumentError('expected NAME:TYPE[:FLAGS], e.g. id:integer:required');
  if (!(FIELD_TYPES as readonly string[]).includes(type))
    throw new InvalidArgumentError(`type ${JSON.stringify(type)} is not one of ${FIELD_TYPES.join(', ')}`);
  const field: Record<string, unknown> = { name, type };
  let flags = rest.join(':');
  while (flags) {
    if (flags.startsWith('desc=')) {
      field['description'] = flags.slice(5);
      break;
    }
    // mask=keep:A:B holds colons and no commas: a flag ends at the next comma.
    const comma = flags.indexOf(',');
    const flag = comma < 0 ? flags : flags.slice(0, comma);
    flags = comma < 0 ? '' : flags.slice(comma + 1);
    if (flag === 'required') field['required'] = true;
    else if (flag === 'sensitive') field['sensitive'] = true;
    else if (flag.startsWith('mask=')) field['mask'] = flag.slice(5);
    else if (flag.startsWith('column=')) field['column'] = flag.slice(7);
    else
      throw new InvalidArgumentError(
        `unknown flag ${JSON.stringify(flag)} (required, sensitive, mask=RULE, column=COL, desc=TEXT)`,
      );
  }
  return [...previous, field];
}

function parseFieldsJson(text: string): Record<string, unknown>[] {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new InvalidArgumentError(`not valid JSON (${(err as Error).message})`);
  }
  if (!Array.isArray(v))
    throw new InvalidArgumentError('expected a JSON array of fields, e.g. [{"name":"id","type":"integer"}]');
  return v as Record<string, unknown>[];
}

const listColumns = (dir: Directory): readonly Column<Resource>[] => [
  { header: 'code', value: (r) => r.code },
  { header: 'name', value: (r) => r.name, maxWidth: 30 },
  { header: 'provider', value: (r) => dir.department(r.providerDepartmentCode) },
  { header: 'share', value: (r) => r.shareType },
  { header: 'status', value: (r) => r.status },
  { header: 'ver', value: (r) => r.version, align: 'right' },
  { header: 'fields', value: (r) => r.fields.length, align: 'right' },
  { header: 'methods', value: (r) => r.shareMethods.join(',') || '-' },
  { header: 'cycle', value: (r) => r.updateCycle },
  { header: 'updated', value: (r) => formatTime(r.updatedAt) },
];

const FIELD_COLUMNS: readonly Column<ResourceField>[] = [
  { header: 'field', value: (f) => f.name },
  { header: 'source column', value: (f) => f.column ?? f.name },
  { header: 'type', value: (f) => f.type },
  { header: 'required', value: (f) => yesNo(f.required) },
  { header: 'sensitive', value: (f) => (f.sensitive ? `yes (${f.mask ?? 'redact'})` : 'no') },
  { header: 'description', value: (f) => f.description || '-', maxWidth: 40 },
];

const VERSION_COLUMNS: readonly Column<ResourceVersion>[] = [
  { header: 'version', value: (v) => v.version, align: 'right' },
  { header: 'at', value: (v) => formatTime(v.at) },
  { header: 'by', value: (v) => v.by },
  { header: 'changed', value: (v) => v.changedKeys.join(', ') || '-' },
  { header: 'note', value: (v) => v.note || '-', maxWidth: 50 },
];

function renderResource(r: Resource, dir: Directory, versions?: ResourceVersion[]): string {
  const basis: [string, string][] =
    r.shareType === 'conditional'
      ? [['Conditions', r.conditions]]
      : r.shareType === 'not_shared'
        ? [['Legal basis', r.legalBasis]]
        : [];
  const parts = [
    renderFields([
      ['Code', r.code],
      ['Name', r.name],
      ['Provider', dir.department(r.providerDepartmentCode)],
      ['Status', r.status],
      ['Version', r.version],
      ['Share type', SHARE_LABEL[r.shareType] ?? r.shareType],
      ...basis,
      ['Methods', r.shareMethods.join(', ') || '-'],
      ['Format', r.format],
      ['Update cycle', r.updateCycle],
      ['Binding', r.binding ? `${r.binding} on node ${r.providerNodeId ?? '-'}` : '-'],
      ['Description', r.description || '-'],
      ['Published', formatTime(r.publishedAt)],
      ['Retired', formatTime(r.retiredAt)],
    ]),
    renderSection('Fields', renderTable(r.fields, FIELD_COLUMNS)),
  ];
  if (versions?.length) parts.push(renderSection('Versions', renderTable(versions, VERSION_COLUMNS)));
  return parts.join('\n\n');
}

const NOTICE_COLUMNS = (dir: Directory): readonly Column<Notification>[] => [
  { header: 'at', value: (n) => formatTime(n.createdAt) },
  { header: 'department', value: (n) => dir.department(n.departmentCode) },
  { header: 'resource', value: (n) => n.resourceCode },
  { header: 'ver', value: (n) => n.version, align: 'right' },
  { header: 'kind', value: (n) => n.kind },
  { header: 'message', value: (n) => n.message, maxWidth: 70 },
];

/** Content flags shared by create and update, with the API field each sets. */
interface ContentFlags {
  name?: string;
  field?: Record<string, unknown>[];
  fieldsJson?: Record<string, unknown>[];
  description?: string;
  format?: string;
  shareType?: string;
  conditions?: string;
  legalBasis?: string;
  methods?: string[];
  cycle?: string;
  binding?: string;
  node?: string;
}

const FLAGS = {
  code: '--code',
  name: '--name',
  providerDepartmentCode: '--dept',
  fields: '--field',
  description: '--description',
  format: '--format',
  shareType: '--share-type',
  conditions: '--conditions',
  legalBasis: '--legal-basis',
  shareMethods: '--methods',
  updateCycle: '--cycle',
  binding: '--binding',
  providerNodeId: '--node',
  note: '--note',
} as const;

function content(o: ContentFlags): Record<string, unknown> {
  if (o.field && o.fieldsJson) throw usageError('give fields with --field or --fields-json, not both');
  const fields = o.field ?? o.fieldsJson;
  return {
    ...(o.name !== undefined && { name: o.name }),
    ...(fields !== undefined && { fields }),
    ...(o.description !== undefined && { description: o.description }),
    ...(o.format !== undefined && { format: o.format }),
    ...(o.shareType !== undefined && { shareType: o.shareType }),
    ...(o.conditions !== undefined && { conditions: o.conditions }),
    ...(o.legalBasis !== undefined && { legalBasis: o.legalBasis }),
    ...(o.methods !== undefined && { shareMethods: o.methods }),
    ...(o.cycle !== undefined && { updateCycle: o.cycle }),
    ...(o.binding !== undefined && { binding: o.binding }),
    ...(o.node !== undefined && { providerNodeId: o.node }),
  };
}

function contentOptions(c: Command, creating: boolean): Command {
  const shareType = new Option(
    '--share-type <type>',
    'unconditional (无条件共享), conditional (有条件共享) or not_shared (不予共享)',
  ).choices(SHARE_TYPES);
  // Creating, central fills in what is left out; updating, what is left out stays as it is.
  const option = (flags: string, description: string, createDefault: string): Option =>
    creating ? defaulted(flags, description, createDefault) : new Option(flags, description);
  return c
    .option('--field <spec>', FIELD_HELP, (v: string, prev?: Record<string, unknown>[]) => parseFieldSpec(v, prev))
    .option('--fields-json <json>', 'all fields as a JSON array instead of --field', parseFieldsJson)
    .addOption(creating ? shareType.makeOptionMandatory() : shareType)
    .option('--conditions <text>', 'conditions of use (required for conditional)')
    .option('--legal-basis <text>', 'the law or regulation (required for not_shared)')
    .addOption(
      option(
        '--methods <list>',
        'share methods: database_sync, file_transfer, online_query (comma-separated)',
        'database_sync (none for not_shared)',
      ).argParser(parseList),
    )
    .addOption(option('--cycle <cycle>', 'update cycle', 'irregular').choices(UPDATE_CYCLES))
    .addOption(option('--format <format>', 'data format, e.g. table, csv, pdf', 'table'))
    .option('--binding <name>', "source name in the provider agent's config")
    .option('--node <id>', 'provider node that reads the source')
    .option('--description <text>', 'what the resource holds');
}

async function showResource(ctx: Context, r: Resource, versions?: ResourceVersion[]): Promise<void> {
  const dir = await Directory.load(ctx, { departments: true });
  ctx.show(versions ? { ...r, versions } : r, () => renderResource(r, dir, versions));
}

export const catalog: Noun = {
  name: 'catalog',
  summary: 'resource catalog 信息资源目录',
  description:
    'The resource catalog (信息资源目录): departments catalog what they hold (编目), publish it (发布), maintain it (维护, ' +
    'every change of a published resource is a new version its consumers are told of) and retire it.',
  register(cmd: Command): void {
    catalogList(cmd);
    catalogCreate(cmd);
    catalogUpdate(cmd);
    catalogPublish(cmd);
    catalogRetire(cmd);
    catalogGet(cmd);
    catalogVersions(cmd);
    catalogNotices(cmd);
  },
};

function catalogList(cmd: Command): void {
  cmd
    .command('list')
    .description('List resources')
    .addOption(new Option('--status <status>', 'only draft, published or retired ones').choices(RESOURCE_STATES))
    .option('--provider <code>', 'only resources of this department')
    .addOption(new Option('--share-type <type>', 'only this share type').choices(SHARE_TYPES))
    .action(
      action<{ status?: string; provider?: string; shareType?: string }>(async (ctx, o) => {
        const [rows, dir] = await Promise.all([
          ctx.api.get<Resource[]>('/resources', { status: o.status, provider: o.provider, shareType: o.shareType }),
          Directory.load(ctx, { departments: true }),
        ]);
        ctx.list(rows, listColumns(dir), 'resources');
      }),
    );
}
function catalogCreate(cmd: Command): void {
  contentOptions(
    cmd
      .command('create')
      .description('Catalog a resource (编目); it starts as a draft')
      .requiredOption('--code <code>', 'resource code, e.g. 360000-GAT-0001')
      .requiredOption('--name <name>', 'name, e.g. 人口基础信息')
      .requiredOption('--dept <code>', 'provider department'),
    true,
  ).action(
    action<ContentFlags & { code: string; dept: string }>(async (ctx, o) => {
      const body = { code: o.code, providerDepartmentCode: o.dept, ...content(o) };
      if (!('fields' in body))
        throw usageError('catalog create: give the fields with --field (repeat it) or --fields-json');
      await showResource(ctx, await ctx.api.post<Resource>('/resources', body, FLAGS));
    }),
  );
}
function catalogUpdate(cmd: Command): void {
  contentOptions(
    cmd
      .command('update')
      .description('Change a resource (维护); a published one becomes a new version and its consumers are notified')
      .argument('<code>', 'resource code')
      .option('--name <name>', 'new name')
      .option('--note <text>', 'what changed and why (kept with the version)'),
    false,
  ).action(
    action<ContentFlags & { note?: string }>(async (ctx, o, code) => {
      const patch = { ...content(o), ...(o.note !== undefined && { note: o.note }) };
      if (Object.keys(patch).length === 0)
        throw usageError('catalog update: nothing to change; give --name, --field, --share-type, ...');
      await showResource(ctx, await ctx.api.patch<Resource>(`/resources/${encodeURIComponent(code!)}`, patch, FLAGS));
    }),
  );
}
function catalogPublish(cmd: Command): void {
  cmd
    .command('publish')
    .description('Publish a draft (发布): it can then be subscribed to or applied for')
    .argument('<code>', 'resource code')
    .action(
      action(async (ctx, _o, code) => {
        await showResource(ctx, await ctx.api.post<Resource>(`/resources/${encodeURIComponent(code!)}/publish`));
      }),
    );
}
function catalogRetire(cmd: Command): void {
  cmd
    .command('retire')
    .description(
      'Retire a resource: no new applications or subscriptions, its flows stop and its consumers are notified',
    )
    .argument('<code>', 'resource code')
    .option('--reason <text>', 'why (told to the consumers)')
    .action(
      action<{ reason?: string }>(async (ctx, o, code) => {
        await showResource(
          ctx,
          await ctx.api.post<Resource>(
            `/resources/${encodeURIComponent(code!)}/retire`,
            o.reason ? { reason: o.reason } : {},
          ),
        );
      }),
    );
}
function catalogGet(cmd: Command): void {
  cmd
    .command('get')
    .description('Show one resource with its fields and version history')
    .argument('<code>', 'resource code')
    .action(
      action(async (ctx, _o, code) => {
        const r = await ctx.api.get<ResourceDetail>(`/resources/${encodeURIComponent(code!)}`);
        const { versions, ...rest } = r;
        await showResource(ctx, rest, versions);
      }),
    );
}
function catalogVersions(cmd: Command): void {
  cmd
    .command('versions')
    .description('List the versions of a resource, oldest first')
    .argument('<code>', 'resource code')
    .action(
      action(async (ctx, _o, code) => {
        ctx.list(
          await ctx.api.get<ResourceVersion[]>(`/resources/${encodeURIComponent(code!)}/versions`),
          VERSION_COLUMNS,
          'versions',
        );
      }),
    );
}
function catalogNotices(cmd: Command): void {
  cmd
    .command('notices')
    .description('Notices to consumer departments about resources they receive (changed, retired), newest first')
    .option('--dept <code>', 'only notices to this department')
    .option('--resource <code>', 'only notices about this resource')
    .option('--since <time>', 'only notices since, e.g. 2025-01-01 or 7d', (v) => parseTime(v))
    .action(
      action<{ dept?: string; resource?: string; since?: number }>(async (ctx, o) => {
        const [rows, dir] = await Promise.all([
          ctx.api.get<Notification[]>('/notifications', { department: o.dept, resource: o.resource, since: o.since }),
          Directory.load(ctx, { departments: true }),
        ]);
        ctx.list(rows, NOTICE_COLUMNS(dir), 'notices');
      }),
    );
}
