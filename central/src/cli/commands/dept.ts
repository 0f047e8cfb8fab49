// xchg dept: departments (部门), the providers and consumers of data.
import type { Command } from 'commander';
import type { CreateDepartmentBody, Department } from '../../api/registry.js';
import { action } from '../context.js';
import { formatTime } from '../format.js';
import { renderFields, type Column } from '../output.js';
import { Directory } from './directory.js';
import type { Noun } from './noun.js';

const columns = (dir: Directory): readonly Column<Department>[] => [
  { header: 'code', value: (d) => d.code },
  { header: 'name', value: (d) => d.name },
  { header: 'region', value: (d) => dir.region(d.regionCode) },
  { header: 'created', value: (d) => formatTime(d.createdAt) },
];

const fields = (d: Department, dir: Directory): string =>
  renderFields([
    ['Code', d.code],
    ['Name', d.name],
    ['Region', dir.region(d.regionCode)],
    ['Created', formatTime(d.createdAt)],
  ]);

export const dept: Noun = {
  name: 'dept',
  summary: 'departments 部门',
  description:
    'Departments (部门): the providers and consumers of data. Each belongs to one region and runs one or more nodes.',
  register(cmd: Command): void {
    cmd
      .command('list')
      .description('List departments')
      .option('--region <code>', 'only departments in this region and the regions under it')
      .action(
        action<{ region?: string }>(async (ctx, o) => {
          const [depts, dir] = await Promise.all([
            ctx.api.get<Department[]>('/departments', { region: o.region }),
            Directory.load(ctx, { regions: true }),
          ]);
          ctx.list(depts, columns(dir), 'departments');
        }),
      );

    cmd
      .command('create')
      .description('Create a department')
      .requiredOption('--code <code>', 'stable code, e.g. gat')
      .requiredOption('--name <name>', 'name, e.g. 公安厅')
      .requiredOption('--region <code>', 'region the department belongs to')
      .action(
        action<{ code: string; name: string; region: string }>(async (ctx, o) => {
          const d = await ctx.api.post<Department>(
            '/departments',
            { code: o.code, name: o.name, regionCode: o.region } satisfies CreateDepartmentBody,
            { code: '--code', name: '--name', regionCode: '--region' },
          );
          const dir = await Directory.load(ctx, { regions: true });
          ctx.show(d, () => fields(d, dir));
        }),
      );

    cmd
      .command('get')
      .description('Show one department')
      .argument('<code>', 'department code')
      .action(
        action(async (ctx, _o, code) => {
          const d = await ctx.api.get<Department>(`/departments/${encodeURIComponent(code)}`);
          const dir = await Directory.load(ctx, { regions: true });
          ctx.show(d, () => fields(d, dir));
        }),
      );
  },
};
