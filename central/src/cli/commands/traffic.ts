// xchg traffic: the traffic history (流量历史) of a node pair — show it at a step with totals, import a history
// file (a province moving from its old platform), export one in the same format.
import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import type {
  TrafficBucket,
  TrafficExport,
  TrafficHistory,
  TrafficImportBody,
  TrafficImportSummary,
} from '../../api/traffic.js';
import { action } from '../context.js';
import { CliError } from '../errors.js';
import { formatBytes } from '../format.js';
import { defaulted } from '../help.js';
import { renderFields, renderTable, writeNote, writeOut } from '../output.js';
import { parseDuration } from '../parse.js';
import type { Noun } from './noun.js';

/** API fields named by the flags that set them (in refusals). */
const FLAGS: Readonly<Record<string, string>> = {
  from: '--from',
  to: '--to',
  resource: '--resource',
  csv: '--file',
  since: '--since',
  until: '--until',
  step: '--step',
};

/** `now` and times back from now (7d, 12h) are read here; dates and times go to central, read in its time zone. */
function instant(text: string | undefined, nowMs: number): string | undefined {
  if (text === undefined) return undefined;
  const s = text.trim();
  if (s === 'now') return String(nowMs);
  if (/^\d+(ms|s|m|h|d)$/.test(s)) return String(nowMs - parseDuration(s));
  return s;
}

const num = (n: number | null): string => (n === null ? '-' : n.toLocaleString('en-US'));
const latency = (b: Pick<TrafficBucket, 'latencyP50Ms' | 'latencyP99Ms'>): string =>
  b.latencyP50Ms === null ? '-' : `${b.latencyP50Ms} / ${b.latencyP99Ms ?? '-'}`;

function render(h: TrafficHistory): string {
  const expected = new Map((h.forecast?.buckets ?? []).map((f) => [f.startMs, f]));
  const forecast = (b: TrafficBucket): string => {
    const f = expected.get(b.startMs);
    return f ? `${num(Math.round(f.expected))} (${num(Math.round(f.lower))}-${num(Math.round(f.upper))})` : '-';
  };
  const rows = h.buckets.filter(
    (b) => b.batches + b.records + b.errors > 0 || (expected.get(b.startMs)?.expected ?? 0) >= 0.5,
  );
  const table = renderTable(rows, [
    { header: 'start', value: (b) => b.start.replace('T', ' ').slice(0, 19) },
    { header: 'batches', value: (b) => num(b.batches), align: 'right' },
    { header: 'records', value: (b) => num(b.records), align: 'right' },
    ...(h.forecast ? [{ header: 'expected (95 %)', value: forecast, align: 'right' as const }] : []),
    { header: 'bytes', value: (b) => formatBytes(b.bytes), align: 'right' },
    { header: 'p50 / p99 ms', value: latency, align: 'right' },
    { header: 'errors', value: (b) => num(b.errors), align: 'right' },
  ]);
  const t = h.totals;
  const head = renderFields([
    ['Pair', `${h.fromNode} → ${h.toNode}${h.resource ? ` (${h.resource})` : ' (all resources)'}`],
    ['Range', `${h.since} … ${h.until} (${h.buckets.length} buckets of ${h.step}, ${h.timeZone})`],
    [
      'Totals',
      `${num(t.records)} records, ${num(t.batches)} batches, ${formatBytes(t.bytes)}, ${num(t.errors)} errors, ` +
        `latency p50 / p99 ${latency(t)} ms, ${t.bucketsWithData} buckets with data`,
    ],
    [
      'Forecast',
      h.forecast
        ? `fitted on the history before ${h.buckets[0]?.start ?? '-'}: ${h.forecast.method}`
        : 'none (under 7 days of history before the range, a range over 35 days, or steps over 1 h)',
    ],
  ]);
  const empty = h.buckets.length - rows.length;
  const note = empty ? `\n(${empty} empty bucket${empty === 1 ? '' : 's'} not shown)` : '';
  return `${head}\n\n${rows.length ? table : '(no traffic in the range)'}${note}`;
}

function pairOptions(c: Command): Command {
  return c
    .requiredOption('--from <node>', 'node the data comes from (provider)')
    .requiredOption('--to <node>', 'node the data goes to (consumer)')
    .addOption(defaulted('--resource <code>', 'one resource of the pair', 'all resources, summed'));
}

function rangeOptions(c: Command, since: string): Command {
  return c
    .addOption(
      defaulted('--since <time>', "start: ISO 8601, 'YYYY-MM-DD[ HH:MM:SS]' in central's time zone, or 7d", since),
    )
    .addOption(defaulted('--until <time>', 'end, exclusive', 'now'))
    .addOption(defaulted('--step <step>', '5m | 1h | 1d', 'chosen from the range'));
}

export const traffic: Noun = {
  name: 'traffic',
  summary: 'traffic history 流量历史',
  description:
    'Traffic history (流量历史) of node pairs: what a consumer node received from a provider node per bucket ' +
    '(batches, records, bytes, delivery latency p50/p99, errors), counted by the consumer agent; import a ' +
    'history file from an old platform and export one (CSV: timestamp,records[,bytes]).',
  register(cmd: Command): void {
    trafficShow(cmd);
    trafficImport(cmd);
    trafficExport(cmd);
  },
};

function trafficShow(cmd: Command): void {
  rangeOptions(
    pairOptions(cmd.command('show').description('Show the history of a pair with totals')),
    '24h before --until',
  ).action(
    action<{ from: string; to: string; resource?: string; since?: string; until?: string; step?: string }>(
      async (ctx, o) => {
        const h = await ctx.api.get<TrafficHistory>(
          '/traffic',
          {
            from: o.from,
            to: o.to,
            resource: o.resource,
            since: instant(o.since, ctx.nowMs),
            until: instant(o.until, ctx.nowMs),
            step: o.step,
          },
          FLAGS,
        );
        ctx.show(h, () => render(h));
      },
    ),
  );
}

function trafficImport(cmd: Command): void {
  pairOptions(cmd.command('import').description('Import a history file for a pair (all or nothing)'))
    .requiredOption('--file <path>', 'CSV with a header timestamp,records[,bytes], rows 1 min to 1 h apart')
    .action(
      action<{ from: string; to: string; resource?: string; file: string }>(async (ctx, o) => {
        let csv: string;
        try {
          csv = readFileSync(o.file, 'utf8');
        } catch (err) {
          throw new CliError(`cannot read ${o.file}: ${(err as Error).message}`);
        }
        const body = {
          from: o.from,
          to: o.to,
          csv,
          ...(o.resource && { resource: o.resource }),
        } satisfies TrafficImportBody;
        const s = await ctx.api.post<TrafficImportSummary>('/traffic/import', body, FLAGS);
        ctx.show(s, () =>
          renderFields([
            ['Pair', `${s.fromNode} → ${s.toNode}${s.resource ? ` (${s.resource})` : ''}`],
            ['Rows read', `${num(s.rowsRead)} (${s.intervalMs / 1000} s apart), ${num(s.records)} records`],
            ['Range', `${s.since} … ${s.until}`],
            ['Written', `${num(s.bucketsWritten)} buckets of ${s.bucketMs / 1000} s, ${num(s.hoursWritten)} hours`],
            ['Replaced', `${num(s.replaced)} imported buckets/hours of the range`],
            ['Kept live', `${num(s.keptLive)} (live traffic there is never overwritten)`],
          ]),
        );
      }),
    );
}

function trafficExport(cmd: Command): void {
  rangeOptions(
    pairOptions(cmd.command('export').description('Export the history of a pair as CSV (the import format)')),
    'everything kept',
  )
    .addOption(defaulted('--file <path>', 'write to this file', 'standard output'))
    .action(
      action<{
        from: string;
        to: string;
        resource?: string;
        since?: string;
        until?: string;
        step?: string;
        file?: string;
      }>(async (ctx, o) => {
        const e = await ctx.api.get<TrafficExport>(
          '/traffic/export',
          {
            from: o.from,
            to: o.to,
            resource: o.resource,
            since: instant(o.since, ctx.nowMs),
            until: instant(o.until, ctx.nowMs),
            step: o.step,
          },
          FLAGS,
        );
        if (!o.file) return void process.stdout.write(e.csv);
        writeFileSync(o.file, e.csv);
        if (ctx.output === 'json') writeOut(JSON.stringify({ file: o.file, rows: e.rows }));
        else writeNote(`${e.rows} rows written to ${o.file}`);
      }),
    );
}
