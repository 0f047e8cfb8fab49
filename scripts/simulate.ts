// `npm run simulate [-- --pairs N --days D --seed S --json]`: the traffic simulator (issue 11, Build 8). Generates a
// province (scripts/sim/generate.ts) ending at the last closed 5-min bucket, feeds it to a real xchg-central
// process (central-run.ts: nodes over gRPC, histories through POST /api/v1/traffic/import, which central
// replays through its surge detector), runs the clustering (central's POST /api/v1/clusters/run when it
// exists, else ClusterService.run() in-process over central's stopped database, said in the output) and
// prints what central stored against the planted truth (figures.ts). `--replay`: the compressed-time replay
// through real agents (replay.ts).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runThroughCentral } from './sim/central-run.js';
import { simSummary, type SimSummary } from './sim/figures.js';
import { CHINA_CALENDAR_2025_2026, generateProvince } from './sim/generate.js';

const DAY_MS = 86_400_000;
const BUCKET_MS = 300_000;
/** The surge detector's warm-up (domain/surge.ts default): no surge is planted before it ends. */
const WARMUP_DAYS = 14;

const { values: args } = parseArgs({
  options: {
    pairs: { type: 'string', default: '200' },
    days: { type: 'string', default: '60' },
    seed: { type: 'string', default: '2026' },
    dir: { type: 'string' },
    json: { type: 'boolean', default: false },
    output: { type: 'string', short: 'o' },
    replay: { type: 'boolean', default: false },
    'hour-seconds': { type: 'string', default: '60' },
    'peak-rate': { type: 'string', default: '2000' },
    'poll-knob-ms': { type: 'string' },
    rounds: { type: 'string', default: '1' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

const USAGE = `用法: npm run simulate -- [--pairs 200] [--days 60] [--seed 2026] [--dir 目录] [--json | -o json] [--replay [--hour-seconds 60] [--peak-rate 2000] [--poll-knob-ms N] [--rounds 1]]`;

function positive(name: string, v: string | undefined): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer, got ${String(v)}`);
  return n;
}

/** The summary as text, one figure a line. */
function text(s: SimSummary, via: string, importS: number, dir: string): string {
  return [
    `省级模拟: ${s.pairs} 对节点 x ${s.days} 天 (5 分钟桶), 中心数据目录 ${dir}`,
    `导入耗时 ${importS.toFixed(1)} s`,
    `聚类 (${via}): ${s.clustered} 对, k = ${s.clusterK}, ARI 对比植入类别 = ${s.clusterAri}`,
    `浪涌 (中心回放导入历史): 植入 ${s.surgesPlanted}, 2 桶内发现 ${s.surgesWithin2} (${s.surgesWithin2Pct} %), ` +
      `中心存储 ${s.surgesStored}, 误报浪涌 ${s.surgesFalse}, 无浪涌桶误报率 ${s.falseAlarmBucketsPct} %`,
    `预测 (最后 ${s.forecastHeldOutDays} 天, 潮汐类节点对): MAPE ${s.forecastMapePct} % vs 季节朴素 ${s.naiveMapePct} %, ` +
      `比值 ${s.forecastMapeVsNaive}`,
  ].join('\n');
}

async function summaryMode(json: boolean): Promise<void> {
  const pairs = positive('pairs', args.pairs);
  const days = positive('days', args.days);
  const seed = positive('seed', args.seed);
  const dir = args.dir ?? mkdtempSync(join(tmpdir(), 'xchg-simulate-'));
  const endMs = Math.floor(Date.now() / BUCKET_MS) * BUCKET_MS - BUCKET_MS;
  const startMs = endMs - days * DAY_MS;
  const say = (s: string): void => void (json ? process.stderr : process.stdout).write(s + '\n');
  say(`simulate: generating ${pairs} pairs x ${days} days (seed ${seed})`);
  const province = generateProvince({
    pairs,
    days,
    startMs,
    seed,
    calendar: CHINA_CALENDAR_2025_2026,
    surgesFromMs: startMs + WARMUP_DAYS * DAY_MS,
  });
  const run = await runThroughCentral({ dir, province, endMs, say });
  const summary = simSummary(run.pairs, run.facts, {
    days,
    warmupDays: WARMUP_DAYS,
    calendar: CHINA_CALENDAR_2025_2026,
  });
  if (json)
    process.stdout.write(
      JSON.stringify({
        ...summary,
        clusteredVia: run.clusteredVia,
        importSeconds: run.importSeconds,
        dir,
        startMs,
        endMs,
      }) + '\n',
    );
  else process.stdout.write(text(summary, run.clusteredVia, run.importSeconds, dir) + '\n');
}

async function main(): Promise<void> {
  if (args.help) {
    process.stdout.write(USAGE + '\n');
    return;
  }
  if (args.output !== undefined && args.output !== 'json' && args.output !== 'table')
    throw new Error(`-o must be json or table, got ${args.output}`);
  const json = args.json || args.output === 'json';
  if (args.replay) {
    const { replayMode } = await import('./sim/replay.js');
    await replayMode({
      json,
      seed: positive('seed', args.seed),
      hourSeconds: positive('hour-seconds', args['hour-seconds']),
      peakRate: positive('peak-rate', args['peak-rate']),
      rounds: positive('rounds', args.rounds),
      ...(args.dir !== undefined && { dir: args.dir }),
      ...(args['poll-knob-ms'] !== undefined && { pollKnobMs: positive('poll-knob-ms', args['poll-knob-ms']) }),
    });
    return;
  }
  await summaryMode(json);
}

main().catch((err: unknown) => {
  process.stderr.write(`simulate: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
