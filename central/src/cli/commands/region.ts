// xchg region: regions (行政区划), province → city → county.
import { Option, type Command } from 'commander';
import { REGION_LEVELS, type CreateRegionBody, type Region, type RegionLevel } from '../../api/registry.js';
import { action } from '../context.js';
import { formatTime } from '../format.js';
import { renderFields, type Column } from '../output.js';
import { Directory } from './directory.js';
import type { Noun } from './noun.js';

interface TreeRow {
  region: Region;
  depth: number;
}

const COLUMNS: readonly Column<TreeRow>[] = [
  { header: 'code', value: (r) => r.region.code },
  // Indented by depth so the list reads as the hierarchy it is.
  { header: 'name', value: (r) => `${'  '.repeat(r.depth)}${r.region.name}` },
  { header: 'level', value: (r) => r.region.level },
  { header: 'parent', value: (r) => r.region.parentCode ?? '-' },
  { header: 'created', value: (r) => formatTime(r.region.createdAt) },
];

/** Depth-first order, children under their parent sorted by code; regions whose parent is not listed start a tree. */
function treeOrder(regions: readonly Region[]): TreeRow[] {
  const known = new Set(regions.map((r) => r.code));
  const children = new Map<string | null, Region[]>();
  for (const r of regions) {
    const parent = r.parentCode && known.has(r.parentCode) ? r.parentCode : null;
    children.set(parent, [...(children.get(parent) ?? []), r]);
  }
  const out: TreeRow[] = [];
  const seen = new Set<string>();
  const walk = (parent: string | null, depth: number): void => {
    for (const r of [...(children.get(parent) ?? [])].sort((a, b) => a.code.localeCompare(b.code))) {
      if (seen.has(r.code)) continue; // a cycle in stored data must not hang the CLI
      seen.add(r.code);
      out.push({ region: r, depth });
      walk(r.code, depth + 1);
    }
  };
  walk(null, 0);
  return out;
}

const fields = (r: Region, dir: Directory): string =>
  renderFields([
    ['Code', r.code],
    ['Name', r.name],
    ['Level', r.level],
    ['Parent', dir.region(r.parentCode)],
    ['Created', formatTime(r.createdAt)],
  ]);

export const region: Noun = {
  name: 'region',
  summary: 'regions 行政区划',
  description: 'Regions (行政区划): province → city → county. Every department and node belongs to one.',
  register(cmd: Command): void {
    cmd
      .command('list')
      .description('List regions as a tree')
      .action(
        action(async (ctx) => {
          const regions = await ctx.api.get<Region[]>('/regions');
          ctx.list(treeOrder(regions), COLUMNS, 'regions', regions);
        }),
      );

    cmd
      .command('create')
      .description('Create a region')
      .requiredOption('--code <code>', 'stable code, e.g. the administrative division code 360100')
      .requiredOption('--name <name>', 'name, e.g. 南昌市')
      .addOption(new Option('--level <level>', 'place in the hierarchy').choices(REGION_LEVELS).makeOptionMandatory())
      .option('--parent <code>', 'parent region (a city needs a province, a county a city)')
      .action(
        action<{ code: string; name: string; level: RegionLevel; parent?: string }>(async (ctx, o) => {
          const r = await ctx.api.post<Region>(
            '/regions',
            {
              code: o.code,
              name: o.name,
              level: o.level,
              ...(o.parent && { parentCode: o.parent }),
            } satisfies CreateRegionBody,
            { code: '--code', name: '--name', level: '--level', parentCode: '--parent' },
          );
          const dir = r.parentCode ? await Directory.load(ctx, { regions: true }) : Directory.empty();
          ctx.show(r, () => fields(r, dir));
        }),
      );

    cmd
      .command('get')
      .description('Show one region')
      .argument('<code>', 'region code')
      .action(
        action(async (ctx, _o, code) => {
          const r = await ctx.api.get<Region>(`/regions/${encodeURIComponent(code)}`);
          const dir = r.parentCode ? await Directory.load(ctx, { regions: true }) : Directory.empty();
          ctx.show(r, () => fields(r, dir));
        }),
      );

    cmd
      .command('delete')
      .description('Delete a region that has no regions or departments under it')
      .argument('<code>', 'region code')
      .action(
        action(async (ctx, _o, code) => {
          await ctx.api.delete(`/regions/${encodeURIComponent(code)}`);
          ctx.done(`deleted region ${code}`);
        }),
      );
  },
};
