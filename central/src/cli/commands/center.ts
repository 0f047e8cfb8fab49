// xchg center: exchange centers (交换中心), the NATS servers nodes attach to, and the URL list flag that
// xchg link shares.
import { InvalidArgumentError, Option, type Command } from 'commander';
import {
  CENTER_LEVELS,
  type Center,
  type CenterHealth,
  type CenterLevel,
  type CreateCenterBody,
  type Link,
  type UpdateCenterBody,
} from '../../api/centers.js';
import { action } from '../context.js';
import { formatBytes, formatTime } from '../format.js';
import { renderFields, renderSection, renderTable, type Column } from '../output.js';
import type { Relay } from '../../api/routing.js';
import { Directory } from './directory.js';
import type { Noun } from './noun.js';

/** A comma-separated list of URLs ("nats://a:4222,nats://b:4222"); central checks each one. */
export function parseUrls(text: string): string[] {
  const urls = text.split(',').map((s) => s.trim());
  if (urls.some((u) => !u))
    throw new InvalidArgumentError('expected URLs separated by commas, e.g. nats://10.0.0.1:4222,nats://10.0.0.2:4222');
  return urls;
}

/** Configured capacity in the unit operators speak: megabits per second. */
export const formatCapacity = (bps: number): string => `${+(bps / 125_000).toFixed(3)} Mbit/s`;

const columns = (dir: Directory): readonly Column<Center>[] => [
  { header: 'code', value: (c) => c.code },
  { header: 'name', value: (c) => c.name },
  { header: 'level', value: (c) => c.level },
  { header: 'region', value: (c) => dir.region(c.regionCode) },
  { header: 'urls', value: (c) => c.natsUrls.join(','), maxWidth: 60 },
  { header: 'js domain', value: (c) => c.jsDomain ?? '-' },
];

/** The monitoring sample as `xchg center show` prints it (bytes in binary units, pending summed). */
function renderHealth(h: CenterHealth): string {
  const f = h.figures;
  const pct = f && f.jsMaxStorageBytes > 0 ? ` (${((100 * f.jsStorageBytes) / f.jsMaxStorageBytes).toFixed(1)} %)` : '';
  return renderFields([
    ['Sampled', formatTime(h.sampledAt)],
    ['State', h.ok ? `answers: nats-server ${h.serverVersion} ${h.serverName}` : `no answer: ${h.error}`],
    ...(f
      ? ([
          ['JetStream', h.jetStream ? 'enabled' : 'off'],
          ['Connections', f.connections],
          ['Memory', formatBytes(f.memBytes)],
          ['JS storage used', `${formatBytes(f.jsStorageBytes)} of ${formatBytes(f.jsMaxStorageBytes)}${pct}`],
          ['JS reserved', formatBytes(f.jsReservedStorageBytes)],
          ['JS memory used', formatBytes(f.jsMemoryBytes)],
          ['Streams / consumers', `${f.jsStreams} / ${f.jsConsumers}`],
          ['Messages / pending', `${f.jsMessages} / ${f.jsPending}`],
        ] as [string, string | number][])
      : []),
  ]);
}

function render(c: Center, dir: Directory, links: readonly Link[], health?: CenterHealth): string {
  const parts = [
    renderFields([
      ['Code', c.code],
      ['Name', c.name],
      ['Level', c.level],
      ['Region', dir.region(c.regionCode)],
      ['URLs', c.natsUrls.join(', ')],
      ['JetStream domain', c.jsDomain ?? '-'],
      ['Monitoring', c.monitorUrl ?? '-'],
      ['Created', formatTime(c.createdAt)],
      ['Updated', formatTime(c.updatedAt)],
    ]),
  ];
  if (health?.monitorUrl) parts.push(renderSection('Health (nats-server monitoring)', renderHealth(health)));
  if (links.length)
    parts.push(
      renderSection(
        'Links',
        renderTable(links, [
          { header: 'link', value: (l) => l.id },
          { header: 'to', value: (l) => (l.a === c.code ? l.b : l.a) },
          { header: 'capacity', value: (l) => formatCapacity(l.capacityBps), align: 'right' },
        ]),
      ),
    );
  return parts.join('\n\n');
}

const CHECK_HELP = 'register without connecting to the URLs first (a center that does not run yet)';
const URLS_HELP = 'client URLs, nats://host:port or tls://host:port, comma-separated';
const FLAGS = {
  code: '--code',
  name: '--name',
  regionCode: '--region',
  level: '--level',
  natsUrls: '--urls',
  jsDomain: '--js-domain',
  monitorUrl: '--monitor-url',
} as const;
const MONITOR_HELP =
  "nats-server's monitoring endpoint (its -m port), http://host:port: central samples /varz and /jsz";

export const center: Noun = {
  name: 'center',
  summary: 'exchange centers 交换中心',
  description:
    'Exchange centers (交换中心): the NATS JetStream servers nodes attach to, at province, city or county level. ' +
    "Central connects to a center's URLs before it accepts them. Link centers with xchg link; move a node with " +
    'xchg node move; make a node homed at a center its relay (中继) with xchg center set-relay.',
  register(cmd: Command): void {
    centerList(cmd);
    centerCreate(cmd);
    centerShow(cmd);
    centerUpdate(cmd);
    centerDelete(cmd);
    centerRelays(cmd);
  },
};

function centerList(cmd: Command): void {
  cmd
    .command('list')
    .description('List exchange centers')
    .option('--region <code>', 'only centers in this region and the regions under it')
    .addOption(new Option('--level <level>', 'only centers at this level').choices(CENTER_LEVELS))
    .action(
      action<{ region?: string; level?: string }>(async (ctx, o) => {
        const [centers, dir] = await Promise.all([
          ctx.api.get<Center[]>('/centers', { region: o.region, level: o.level }),
          Directory.load(ctx, { regions: true }),
        ]);
        ctx.list(centers, columns(dir), 'centers');
      }),
    );
}

function centerCreate(cmd: Command): void {
  cmd
    .command('create')
    .description('Register an exchange center; central first checks that a NATS server answers at one of its URLs')
    .requiredOption('--code <code>', 'code: lowercase letters, digits and -, e.g. nanchang')
    .requiredOption('--name <name>', 'name, e.g. 南昌市交换中心')
    .requiredOption('--region <code>', 'region it serves, e.g. 360100')
    .addOption(new Option('--level <level>', 'place in the hierarchy').choices(CENTER_LEVELS).makeOptionMandatory())
    .requiredOption('--urls <urls>', URLS_HELP, parseUrls)
    .option('--js-domain <domain>', 'its JetStream domain, when it has its own')
    .option('--monitor-url <url>', MONITOR_HELP)
    .option('--no-check', CHECK_HELP)
    .action(
      action<{
        code: string;
        name: string;
        region: string;
        level: CenterLevel;
        urls: string[];
        jsDomain?: string;
        monitorUrl?: string;
        check: boolean;
      }>(async (ctx, o) => {
        const body = {
          code: o.code,
          name: o.name,
          regionCode: o.region,
          level: o.level,
          natsUrls: o.urls,
          ...(o.jsDomain && { jsDomain: o.jsDomain }),
          ...(o.monitorUrl && { monitorUrl: o.monitorUrl }),
          ...(!o.check && { check: false }),
        } satisfies CreateCenterBody;
        const c = await ctx.api.post<Center>('/centers', body, FLAGS);
        const dir = await Directory.load(ctx, { regions: true });
        ctx.show(c, () => render(c, dir, []));
      }),
    );
}

function centerShow(cmd: Command): void {
  cmd
    .command('show')
    .alias('get')
    .description('Show one exchange center, its links and its latest health sample (GET /centers/:code/health)')
    .argument('<code>', 'center code')
    .action(
      action(async (ctx, _o, code) => {
        const c = await ctx.api.get<Center>(`/centers/${encodeURIComponent(code)}`);
        const table = ctx.output === 'table';
        const [links, dir, health] = await Promise.all([
          table ? ctx.api.get<Link[]>('/links', { center: c.code }) : Promise.resolve([]),
          Directory.load(ctx, { regions: true }),
          table && c.monitorUrl ? ctx.api.get<CenterHealth>(`/centers/${encodeURIComponent(code)}/health`) : undefined,
        ]);
        ctx.show(c, () => render(c, dir, links, health));
      }),
    );
}

function centerUpdate(cmd: Command): void {
  cmd
    .command('update')
    .description('Change a center; new URLs reach its nodes with their next poll (and are checked first)')
    .argument('<code>', 'center code')
    .option('--name <name>', 'new name')
    .option('--region <code>', 'new region')
    .addOption(new Option('--level <level>', 'new level').choices(CENTER_LEVELS))
    .option('--urls <urls>', URLS_HELP, parseUrls)
    .option('--js-domain <domain>', "new JetStream domain ('' removes it)")
    .option('--monitor-url <url>', `${MONITOR_HELP} ('' removes it)`)
    .option('--no-check', 'change the URLs without connecting to them first')
    .action(
      action<{
        name?: string;
        region?: string;
        level?: CenterLevel;
        urls?: string[];
        jsDomain?: string;
        monitorUrl?: string;
        check: boolean;
      }>(async (ctx, o, code) => {
        const body = {
          ...(o.name !== undefined && { name: o.name }),
          ...(o.region !== undefined && { regionCode: o.region }),
          ...(o.level !== undefined && { level: o.level }),
          ...(o.urls !== undefined && { natsUrls: o.urls }),
          ...(o.jsDomain !== undefined && { jsDomain: o.jsDomain || null }),
          ...(o.monitorUrl !== undefined && { monitorUrl: o.monitorUrl || null }),
          ...(!o.check && { check: false }),
        } satisfies UpdateCenterBody;
        const c = await ctx.api.patch<Center>(`/centers/${encodeURIComponent(code)}`, body, FLAGS);
        const dir = await Directory.load(ctx, { regions: true });
        ctx.show(c, () => render(c, dir, []));
      }),
    );
}

function centerDelete(cmd: Command): void {
  cmd
    .command('delete')
    .description("Delete a center no node calls home and no link ends at (never central's default center)")
    .argument('<code>', 'center code')
    .action(
      action(async (ctx, _o, code) => {
        await ctx.api.delete(`/centers/${encodeURIComponent(code)}`);
        ctx.done(`deleted center ${code}`);
      }),
    );
}

const renderRelay = (r: Relay): string =>
  [
    renderFields([
      ['Center', r.center],
      ['Relay node', `${r.nodeName} (${r.nodeId})`],
      ['Generation', r.generation],
      ['Set', `${formatTime(r.setAt)} by ${r.setBy}`],
      ['Probe interval', `${r.probeIntervalMs} ms`],
    ]),
    renderSection(
      'Neighbours',
      renderTable(r.neighbors, [
        { header: 'center', value: (n) => n.center },
        { header: 'link', value: (n) => n.linkId },
        { header: 'dials', value: (n) => n.natsUrls.join(','), maxWidth: 60 },
        { header: 'capacity', value: (n) => formatCapacity(n.capacityBps), align: 'right' },
      ]),
    ),
  ].join('\n\n');

/** The relay (中继) role: set-relay, clear-relay, relays. */
function centerRelays(cmd: Command): void {
  cmd
    .command('set-relay')
    .description('Make a node the relay of its home center: it forwards units hop by hop and probes its links')
    .argument('<code>', 'center code')
    .requiredOption('--node <id>', 'node id (homed at the center)')
    .action(
      action<{ node: string }>(async (ctx, o, code) => {
        const body = { nodeId: o.node };
        const r = await ctx.api.put<Relay>(`/centers/${encodeURIComponent(code)}/relay`, body, { nodeId: '--node' });
        ctx.show(r, () => renderRelay(r));
      }),
    );
  cmd
    .command('clear-relay')
    .description("Take the relay role from the center's relay node")
    .argument('<code>', 'center code')
    .action(
      action(async (ctx, _o, code) => {
        await ctx.api.delete(`/centers/${encodeURIComponent(code)}/relay`);
        ctx.done(`center ${code} has no relay now`);
      }),
    );
  cmd
    .command('relays')
    .description('List the relay of each center')
    .action(
      action(async (ctx) => {
        const relays = await ctx.api.get<Relay[]>('/relays');
        ctx.list(
          relays,
          [
            { header: 'center', value: (r) => r.center },
            { header: 'node', value: (r) => `${r.nodeName} (${r.nodeId})` },
            { header: 'neighbours', value: (r) => r.neighbors.map((n) => n.center).join(',') },
            { header: 'probe interval', value: (r) => `${r.probeIntervalMs} ms`, align: 'right' },
            { header: 'generation', value: (r) => r.generation, align: 'right' },
          ],
          'relays',
        );
      }),
    );
}
