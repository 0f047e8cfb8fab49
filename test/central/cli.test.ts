// The `xchg` CLI as an operator runs it: the built binary as a child process against a real central
// process; a node is enrolled over real gRPC so node listings have something to show.
import * as grpc from '@grpc/grpc-js';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadXchgV1, type AgentServiceClient, type EnrollResponse__Output } from '../../proto/index.js';
import { CentralProcess } from '../helpers/central.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { removeTmpDirs } from '../helpers/tmp.js';

interface RegionJson {
  code: string;
  name: string;
  level: string;
  parentCode: string | null;
}
interface DepartmentJson {
  code: string;
  name: string;
  regionCode: string;
}
interface TokenJson {
  id: string;
  departmentCode: string;
  nodeName: string;
  usedAt: number | null;
  usedByNodeId: string | null;
  revokedAt: number | null;
}
interface NodeJson {
  id: string;
  name: string;
  departmentCode: string;
  status: string;
  enabled: boolean;
  lastHeartbeatAt: number | null;
  health: { outboxDepth?: number } | null;
}
interface TaskJson {
  id: string;
  name: string;
  kind: string;
  nodeId: string;
  binding: string;
  params: Record<string, unknown>;
  intervalMs: number;
  enabled: boolean;
  generation: number;
}
interface ReportJson {
  reportId: string;
  nodeId: string;
  seq: number;
  kind: string;
  body: Record<string, unknown>;
}

/** Terminal columns of a string: CJK and fullwidth characters take two. */
function columns(s: string): number {
  let w = 0;
  for (const ch of s)
    w += /[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]/u.test(ch)
      ? 2
      : 1;
  return w;
}

/** The table's rows keyed by the value in their first column. */
function rowsByFirstCell(table: string): Map<string, string> {
  return new Map(
    table
      .trimEnd()
      .split('\n')
      .map((line) => [line.split(/\s+/)[0]!, line]),
  );
}

/** A port nothing listens on. */
async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as { port: number };
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

function unary<T>(fn: (cb: grpc.requestCallback<T>) => unknown): Promise<T> {
  return new Promise((resolve, reject) => {
    fn((err, value) => (err ? reject(err) : resolve(value as T)));
  });
}

describe('cli - the xchg command against a real central', () => {
  let central: CentralProcess;
  let agent: AgentServiceClient;
  let node: EnrollResponse__Output;
  /** The node's credentials for gRPC calls. */
  let md: grpc.Metadata;

  /** Runs xchg with XCHG_SERVER and XCHG_TOKEN of the test's central (overridable by `env`). */
  const xchg = (args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> =>
    runCli(args, { XCHG_SERVER: central.url, XCHG_TOKEN: central.adminToken, ...env });

  /** Runs xchg -o json, expects success and parses stdout. */
  async function json<T>(args: string[]): Promise<T> {
    const r = await xchg([...args, '-o', 'json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    return JSON.parse(r.stdout) as T;
  }

  /** A failing run: exit code and exactly one stderr line starting "xchg: ", nothing on stdout. */
  function expectFailure(r: CliResult, code: number): string {
    expect(r.code).toBe(code);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^xchg: [^\n]+\n$/);
    expect(r.stderr).not.toMatch(/\s+at .+:\d+:\d+/); // no stack trace
    return r.stderr.trimEnd();
  }

  beforeAll(async () => {
    // A long heartbeat TTL: the node heartbeats once, and the tests below expect it online however slow the machine.
    central = await CentralProcess.start({ heartbeatTtlMs: 600_000 });
    // The frame the tests below build on, made through the CLI itself.
    for (const args of [
      ['region', 'create', '--code', '360000', '--name', '江西省', '--level', 'province'],
      ['region', 'create', '--code', '360100', '--name', '南昌市', '--level', 'city', '--parent', '360000'],
      ['dept', 'create', '--code', 'gat', '--name', '公安厅', '--region', '360000'],
    ]) {
      const r = await xchg(args);
      if (r.code !== 0) throw new Error(`xchg ${args.join(' ')} → ${r.code}: ${r.stderr}`);
    }
    // One node enrolled and heartbeating over gRPC, with a report delivered.
    const issued = await json<{ token: string }>(['token', 'create', '--dept', 'gat', '--node', '省厅前置机-01']);
    agent = new (loadXchgV1().AgentService)(central.grpcAddress, grpc.credentials.createInsecure());
    const enroll = { token: issued.token, hostname: 'fe-01', agentVersion: '9.9.9', labels: {} };
    node = await unary<EnrollResponse__Output>((cb) => agent.Enroll(enroll, cb));
    md = new grpc.Metadata();
    md.set('x-xchg-node-id', node.nodeId);
    md.set('authorization', `Bearer ${node.nodeSecret}`);
    const health = { agentVersion: '9.9.9', outboxDepth: 7, spoolDepth: 2, state: 'RUNNING' };
    await unary((cb) => agent.Heartbeat({ health, sentAtMs: Date.now() }, md, cb));
    const event = { severity: 'warn', code: 'SINK_SLOW', message: '写入较慢' };
    await unary((cb) =>
      agent.Report({ items: [{ reportId: 'cli-r1', seq: 1, observedAtMs: Date.now(), event }] }, md, cb),
    );
  });

  afterAll(async () => {
    agent?.close();
    await central?.stop();
    removeTmpDirs();
  });

  it('cli - help lists every noun with its English and Chinese term', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    for (const [noun, term] of [
      ['region', 'regions 行政区划'],
      ['dept', 'departments 部门'],
      ['node', 'nodes 前置节点'],
      ['token', 'enrollment tokens 注册令牌'],
      ['task', 'exchange tasks 交换任务'],
    ]) {
      expect(r.stdout).toMatch(new RegExp(`^\\s+${noun}\\s+${term}$`, 'm'));
    }
    // A noun without a verb shows that noun's verbs.
    const region = await runCli(['region']);
    expect(region.code).toBe(0);
    expect(region.stdout).toMatch(/^\s+list\s/m);
    expect(region.stdout).toMatch(/^\s+delete <code>\s/m);
  });

  it('cli - region list shows the hierarchy in aligned columns, CJK names padded by display width', async () => {
    const r = await xchg(['region', 'list']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^CODE\s+NAME\s+LEVEL\s+PARENT\s+CREATED$/);
    const rows = rowsByFirstCell(r.stdout);
    expect(rows.get('360000')).toMatch(/^360000\s+江西省\s+province\s+-\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    // The city sits under its province, its name indented.
    expect(rows.get('360100')).toMatch(/^360100\s+ {2}南昌市\s+city\s+360000\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    expect(lines.findIndex((l) => l.startsWith('360100'))).toBe(lines.findIndex((l) => l.startsWith('360000')) + 1);
    // Every column starts at the same terminal column in the header and in each row.
    const at = (line: string, value: string): number => columns(line.slice(0, line.indexOf(value)));
    expect(at(rows.get('360000')!, 'province')).toBe(at(lines[0]!, 'LEVEL'));
    expect(at(rows.get('360100')!, 'city')).toBe(at(lines[0]!, 'LEVEL'));
    expect(at(rows.get('360100')!, '360000')).toBe(at(lines[0]!, 'PARENT'));
  });

  it('cli - region and dept listings with -o json are the API objects', async () => {
    const regions = await json<RegionJson[]>(['region', 'list']);
    expect(regions.map((x) => [x.code, x.name, x.level, x.parentCode])).toEqual([
      ['360000', '江西省', 'province', null],
      ['360100', '南昌市', 'city', '360000'],
    ]);
    const created = await json<DepartmentJson>([
      'dept',
      'create',
      '--code',
      'nc-gaj',
      '--name',
      '南昌市公安局',
      '--region',
      '360100',
    ]);
    expect(created).toMatchObject({ code: 'nc-gaj', name: '南昌市公安局', regionCode: '360100' });
    const inCity = await json<DepartmentJson[]>(['dept', 'list', '--region', '360100']);
    expect(inCity.map((d) => d.code)).toEqual(['nc-gaj']);
    const all = await json<DepartmentJson[]>(['dept', 'list']);
    expect(all.map((d) => d.code).sort()).toEqual(['gat', 'nc-gaj']);
  });

  it('cli - dept list and get show names beside codes', async () => {
    const list = await xchg(['dept', 'list']);
    expect(list.code).toBe(0);
    const rows = rowsByFirstCell(list.stdout);
    expect(rows.get('CODE')).toMatch(/^CODE\s+NAME\s+REGION\s+CREATED$/);
    expect(rows.get('gat')).toMatch(/^gat\s+公安厅\s+江西省 \(360000\)\s+\d{4}-/);
    const get = await xchg(['dept', 'get', 'gat']);
    expect(get.code).toBe(0);
    expect(get.stdout).toMatch(/^Name\s+公安厅$/m);
    expect(get.stdout).toMatch(/^Region\s+江西省 \(360000\)$/m);
  });

  it('cli - token create prints only the secret and token list shows it unused', async () => {
    const created = await xchg(['token', 'create', '--dept', 'gat', '--node', 'gat-02', '--ttl', '2h']);
    expect(created.code).toBe(0);
    expect(created.stdout).toMatch(/^xet_\S+\n$/);
    const tokens = await json<TokenJson[]>(['token', 'list']);
    const mine = tokens.find((t) => t.nodeName === 'gat-02');
    expect(mine).toMatchObject({ departmentCode: 'gat', usedAt: null, usedByNodeId: null, revokedAt: null });
    const table = await xchg(['token', 'list']);
    expect(rowsByFirstCell(table.stdout).get(mine!.id)).toMatch(/公安厅 \(gat\)\s+gat-02\s+unused\s/);
    // The token that enrolled the node of beforeAll is used, by that node.
    expect(tokens.find((t) => t.nodeName === '省厅前置机-01')).toMatchObject({ usedByNodeId: node.nodeId });
    // -o json gives the whole answer: the secret and its record.
    const whole = await json<{ token: string; record: TokenJson }>([
      'token',
      'create',
      '--dept',
      'gat',
      '--node',
      'gat-03',
    ]);
    expect(whole.token).toMatch(/^xet_/);
    expect(whole.record).toMatchObject({ nodeName: 'gat-03', departmentCode: 'gat', usedAt: null });
  });

  it('cli - an API validation error exits 1 with one stderr line naming the flag and the problem', async () => {
    const r = await xchg(['dept', 'create', '--code', 'x', '--name', 'X', '--region', '999999']);
    expect(expectFailure(r, 1)).toBe('xchg: --region: region "999999" not found');
    const dup = await xchg(['region', 'create', '--code', '360000', '--name', '江西省', '--level', 'province']);
    expect(expectFailure(dup, 1)).toBe('xchg: region "360000" already exists');
    const missing = await xchg(['node', 'get', 'nd-nope']);
    expect(expectFailure(missing, 1)).toBe('xchg: node "nd-nope" not found');
    // Nothing was created by the failed command.
    expect((await json<DepartmentJson[]>(['dept', 'list'])).map((d) => d.code)).not.toContain('x');
  });

  it('cli - a bad flag value or command line exits 2 with one line naming the flag', async () => {
    const ttl = expectFailure(await xchg(['token', 'create', '--dept', 'gat', '--node', 'gat-09', '--ttl', '7x']), 2);
    expect(ttl).toContain("'--ttl <duration>'");
    expect(ttl).toContain("'7x' is invalid");
    const create = ['task', 'create', '--name', 'n', '--kind', 'sync', '--node', node.nodeId, '--binding', 'b'];
    expect(expectFailure(await xchg([...create, '--interval', 'soon']), 2)).toContain("'--interval <duration>'");
    expect(expectFailure(await xchg([...create, '--params', '[1]']), 2)).toContain("'--params <json>'");
    expect(expectFailure(await xchg(['regoin', 'list']), 2)).toBe(
      "xchg: unknown command 'regoin' (Did you mean region?)",
    );
    expect(expectFailure(await xchg(['region', 'list', '-o', 'yaml']), 2)).toContain('Allowed choices are table, json');
    const incomplete = await xchg(['region', 'create', '--code', '360200']);
    expect(expectFailure(incomplete, 2)).toContain("required option '--name <name>' not specified");
    // No token was issued by the refused command.
    expect((await json<TokenJson[]>(['token', 'list'])).map((t) => t.nodeName)).not.toContain('gat-09');
  });

  it('cli - without a token it says how to give one and exits 1', async () => {
    const r = await xchg(['region', 'list'], { XCHG_TOKEN: '' });
    expect(expectFailure(r, 1)).toMatch(/^xchg: missing token: set --token or XCHG_TOKEN/);
    const wrong = await xchg(['region', 'list', '--token', 'not-the-token']);
    expect(expectFailure(wrong, 1)).toBe('xchg: unknown or revoked token');
    // --token-file reads the token (here: central's bootstrap admin token).
    const tokenFile = join(central.dataDir, 'admin.token');
    const fromFile = await xchg(['region', 'list', '-o', 'json', '--token-file', tokenFile], { XCHG_TOKEN: '' });
    expect(fromFile.code).toBe(0);
    expect((JSON.parse(fromFile.stdout) as RegionJson[]).map((x) => x.code)).toContain('360000');
  });

  it('cli - an unreachable central is reported in one line with the address and the reason', async () => {
    const port = await freePort();
    const r = await xchg(['node', 'list', '--server', `http://127.0.0.1:${port}`]);
    expect(expectFailure(r, 1)).toBe(`xchg: cannot reach central at http://127.0.0.1:${port}: connection refused`);
  });

  it('cli - node list -o json parses as JSON with the enrolled node and its health', async () => {
    const nodes = await json<NodeJson[]>(['node', 'list']);
    expect(nodes).toHaveLength(1);
    expect(nodes[0]).toMatchObject({ id: node.nodeId, name: '省厅前置机-01', departmentCode: 'gat', status: 'online' });
    expect(nodes[0]!.enabled).toBe(true);
    expect(nodes[0]!.health?.outboxDepth).toBe(7);
    expect(await json<NodeJson[]>(['node', 'list', '--dept', 'nc-gaj'])).toEqual([]);
  });

  it('cli - node list table shows department, region, status, home center, heartbeat age, version and outbox depth', async () => {
    const r = await xchg(['node', 'list']);
    expect(r.code).toBe(0);
    const [header, row, ...rest] = r.stdout.trimEnd().split('\n');
    expect(header).toMatch(/^ID\s+NAME\s+DEPARTMENT\s+REGION\s+STATUS\s+CENTER\s+HEARTBEAT\s+VERSION\s+OUTBOX$/);
    expect(rest).toEqual([]);
    const cells = [
      node.nodeId,
      '省厅前置机-01',
      '公安厅 \\(gat\\)',
      '江西省 \\(360000\\)',
      'online',
      'province',
      '(\\d+[smhd])+ ago',
      '9\\.9\\.9',
      '7',
    ];
    expect(row).toMatch(new RegExp(`^${cells.join('\\s+')}$`));
    // The outbox column is right-aligned: its last digit ends where the header ends.
    expect(columns(row!)).toBe(columns(header!));
  });

  it('cli - node reports lists what the node delivered; disable and enable switch it', async () => {
    const reports = await json<ReportJson[]>(['node', 'reports', node.nodeId]);
    expect(reports.map((x) => [x.nodeId, x.seq, x.kind, x.body['code']])).toEqual([
      [node.nodeId, 1, 'event', 'SINK_SLOW'],
    ]);
    const table = await xchg(['node', 'reports', node.nodeId]);
    expect(table.stdout).toMatch(/^\s*1\s+event\s+.*warn SINK_SLOW: 写入较慢$/m);

    const off = await json<NodeJson>(['node', 'disable', node.nodeId, '--reason', '维护']);
    expect(off.enabled).toBe(false);
    const listed = await xchg(['node', 'list']);
    expect(listed.stdout).toMatch(/online, disabled/);
    expect((await json<NodeJson>(['node', 'enable', node.nodeId])).enabled).toBe(true);
    const detail = await xchg(['node', 'get', node.nodeId]);
    expect(detail.stdout).toMatch(/^\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+disabled\s+维护$/m);
    expect(detail.stdout).toMatch(/^\s+Outbox\s+7 reports$/m);
  });

  it('cli - node reports shows the newest first; --limit takes the newest, --before pages back; bad values name the flag', async () => {
    const items = [2, 3].map((seq) => ({
      reportId: `cli-r${seq}`,
      seq,
      observedAtMs: Date.now(),
      event: { severity: 'info', code: `C${seq}`, message: 'm' },
    }));
    await unary((cb) => agent.Report({ items }, md, cb));
    expect((await json<ReportJson[]>(['node', 'reports', node.nodeId])).map((r) => r.reportId)).toEqual([
      'cli-r3',
      'cli-r2',
      'cli-r1',
    ]);

    // A full page says how to get the older ones (on stderr: stdout stays the table).
    const page = await xchg(['node', 'reports', node.nodeId, '--limit', '2']);
    expect(page.code).toBe(0);
    expect(
      page.stdout
        .trimEnd()
        .split('\n')
        .map((l) => l.trim().split(/\s+/)[0]),
    ).toEqual(['SEQ', '3', '2']);
    expect(page.stderr).toBe('2 reports shown; older ones: --before cli-r2\n');
    const last = await xchg(['node', 'reports', node.nodeId, '--limit', '2', '--before', 'cli-r2']);
    expect(
      last.stdout
        .trimEnd()
        .split('\n')
        .map((l) => l.trim().split(/\s+/)[0]),
    ).toEqual(['SEQ', '1']);
    expect(last.stderr).toBe('');
    expect(
      (await json<ReportJson[]>(['node', 'reports', node.nodeId, '--before', 'cli-r1'])).map((r) => r.reportId),
    ).toEqual([]);

    const zero = expectFailure(await xchg(['node', 'reports', node.nodeId, '--limit', '0']), 2);
    expect(zero).toContain("'--limit <n>'");
    expect(zero).toContain("'0' is invalid");
    expect(expectFailure(await xchg(['node', 'reports', node.nodeId, '--limit', 'ten']), 2)).toContain(
      "'ten' is invalid",
    );
    expect(expectFailure(await xchg(['node', 'reports', node.nodeId, '--limit', '10001']), 1)).toBe(
      'xchg: --limit: must be <= 10000',
    );
    expect(expectFailure(await xchg(['node', 'reports', node.nodeId, '--before', 'nope']), 1)).toBe(
      'xchg: --before: report "nope" not found',
    );
    // The refused commands changed nothing.
    expect((await json<ReportJson[]>(['node', 'reports', node.nodeId])).map((r) => r.reportId)).toEqual([
      'cli-r3',
      'cli-r2',
      'cli-r1',
    ]);
  });

  it('cli - task create, update, list, get and delete', async () => {
    const t = await json<TaskJson>([
      'task',
      'create',
      '--name',
      '人口基础信息同步',
      '--kind',
      'sync',
      '--node',
      node.nodeId,
      '--binding',
      'people_db',
      '--params',
      '{"table":"people"}',
      '--interval',
      '1m30s',
    ]);
    expect(t).toMatchObject({ name: '人口基础信息同步', kind: 'sync', nodeId: node.nodeId, binding: 'people_db' });
    expect([t.params, t.intervalMs, t.enabled, t.generation]).toEqual([{ table: 'people' }, 90_000, true, 1]);

    const u = await json<TaskJson>(['task', 'update', t.id, '--enabled', 'false', '--interval', '5m']);
    expect([u.id, u.enabled, u.intervalMs, u.generation, u.params]).toEqual([
      t.id,
      false,
      300_000,
      2,
      { table: 'people' },
    ]);
    expect(expectFailure(await xchg(['task', 'update', t.id]), 2)).toContain('nothing to change');

    const list = await xchg(['task', 'list', '--node', node.nodeId]);
    expect(rowsByFirstCell(list.stdout).get(t.id)).toMatch(
      /人口基础信息同步\s+sync\s+\S+\s+-\s+people_db\s+5m\s+no\s+2\s/,
    );
    const get = await xchg(['task', 'get', t.id]);
    expect(get.stdout).toMatch(/^Params\s+\{"table":"people"\}$/m);
    expect(get.stdout).toMatch(/^Every\s+5m$/m);
    expect(await json<unknown[]>(['task', 'runs', t.id])).toEqual([]);

    const del = await xchg(['task', 'delete', t.id]);
    expect(del.code).toBe(0);
    expect(del.stdout).toBe(`deleted task ${t.id}\n`);
    expect(expectFailure(await xchg(['task', 'get', t.id]), 1)).toBe(`xchg: task "${t.id}" not found`);
  });
});
