// `npm run demo`: a local province on this machine — three exchange centers (the province's, 南昌市's and
// 赣州市's: one nats-server with JetStream each, linked province–city and city–city, a relay agent at each),
// xchg-central, and department agents homed at their city's center — set up through the HTTP API as a
// province would: providers publish their resources in the catalog, consumers subscribe (or apply, and the
// provider approves); every flow crosses centers on the route central chose (printed with the results).
// With --once it waits until every agent is online, prints a summary and exits 0 (non-zero on failure);
// without it, it keeps running until Ctrl-C and prints where the dashboard is.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { stringify } from 'yaml';
import { freePort, requireBuilt, ROOT, startChild, type Child } from './lib.js';
import {
  CENTERS,
  designateRelays,
  moveNode,
  PROVINCE_CENTER,
  registerCenters,
  RELAY_DEPT,
  routeOf,
  startCenters,
  startRelayAgents,
} from './demo-centers.js';
import { LEGAL_PERSON_FIELDS, PERSON_FIELDS, seedLegalPersons, seedLicenceFiles, seedPopulation } from './synthetic.js';
import { compareTables, compareTrees } from './verify.js';
import { AGENT_NODE_FLAGS } from '../node-agent/src/heap.js';

interface Dept {
  code: string;
  name: string;
  region: string;
  node: string;
}

const REGIONS = [
  { code: '360000', name: '江西省', level: 'province' },
  { code: '360100', name: '南昌市', level: 'city', parentCode: '360000' },
  { code: '360700', name: '赣州市', level: 'city', parentCode: '360000' },
];
const DEPTS: Dept[] = [
  { code: 'jx-gat', name: '江西省公安厅', region: '360000', node: 'jx-gat-01' },
  { code: 'nc-gaj', name: '南昌市公安局', region: '360100', node: 'nc-gaj-01' },
  { code: 'nc-scjgj', name: '南昌市市场监督管理局', region: '360100', node: 'nc-scjgj-01' },
  { code: 'gz-mzj', name: '赣州市民政局', region: '360700', node: 'gz-mzj-01' },
  { code: 'gz-rsj', name: '赣州市人力资源和社会保障局', region: '360700', node: 'gz-rsj-01' },
];

const POPULATION_ROWS = 100_000;
const LEGAL_PERSON_ROWS = 20_000;
const LICENCE_FILES = 30;

/** Fields the civil-affairs bureau may see of the population data: fewer than the police bureau. */
const PERSON_FIELDS_GZ = PERSON_FIELDS.filter((f) =>
  ['id', 'name', 'gender', 'birth_date', 'district', 'updated_at'].includes(f.name),
);

/** A field as synthetic.ts lists it: the source column and, with `as`, its standard data element name. */
interface FieldDef {
  readonly name: string;
  readonly as?: string;
  readonly type: string;
  readonly required?: boolean;
  readonly mask?: string;
}

/**
 * A field list as the catalog describes it: published under the standard name (e.g. sfzh), read from the
 * provider's column (id_no); the masked fields are the sensitive ones (敏感字段).
 */
const published = (f: FieldDef): string => f.as ?? f.name;
const catalogFields = (fields: readonly FieldDef[]) =>
  fields.map((f) => ({
    name: published(f),
    ...(f.as && { column: f.name }),
    type: f.type,
    required: f.required ?? false,
    ...(f.mask && { sensitive: true, mask: f.mask }),
  }));

/** What a consumer receives of `fields`: the source column under its published name, masked as cataloged. */
const delivered = (fields: readonly FieldDef[]) =>
  fields.map((f) => ({ name: f.name, ...(f.as && { as: f.as }), ...(f.mask && { mask: f.mask }) }));

/** A resource of the catalog (信息资源目录) as its provider department publishes it (POST /resources). */
interface CatalogEntry {
  code: string;
  name: string;
  provider: string;
  description: string;
  fields: ReturnType<typeof catalogFields>;
  format: string;
  shareType: 'unconditional' | 'conditional';
  conditions?: string;
  shareMethods: string[];
  updateCycle: string;
  /** Source name in the provider agent's config. */
  binding: string;
}

/** A flow of the demo: which resource goes to whom, how it is obtained, and how to check it arrived. */
interface Flow {
  key: string;
  title: string;
  resource: string;
  to: string;
  /** Sink name in the consumer agent's config. */
  sink: string;
  /** For a conditional resource: the consumer applies with this purpose for these fields; the provider approves. */
  apply?: { purpose: string; fields: string[] };
  check: () => { done: boolean; detail: string; problems: string[] };
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { once: { type: 'boolean' }, 'http-port': { type: 'string' }, dir: { type: 'string' } },
  });
  const dir = values.dir ?? join(ROOT, '.demo');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'logs'), { recursive: true });
  const children: Child[] = [];
  const stopAll = async (): Promise<void> => {
    for (const c of children.reverse()) await c.stop();
  };
  process.on('SIGINT', () => void stopAll().then(() => process.exit(130)));
  process.on('SIGTERM', () => void stopAll().then(() => process.exit(143)));

  try {
    const centerUrls = await startCenters(dir, children);
    for (const url of centerUrls.values()) await waitPort(Number(new URL(url).port));
    const natsUrl = centerUrls.get(PROVINCE_CENTER)!;
    step(
      `交换中心 exchange centers: ${CENTERS.map((c) => `${c.name} ${centerUrls.get(c.code)!}`).join(', ')} (nats-server with JetStream each)`,
    );

    const httpPort = values['http-port'] ? Number(values['http-port']) : await preferredPort(8080);
    const central = startChild(
      'xchg-central',
      process.execPath,
      [
        requireBuilt('bin/xchg-central.js'),
        '--data-dir',
        join(dir, 'central'),
        '--http-port',
        String(httpPort),
        '--grpc-port',
        '0',
      ],
      join(dir, 'logs', 'central.log'),
      {
        XCHG_CENTRAL_HTTP_HOST: '127.0.0.1',
        XCHG_CENTRAL_GRPC_HOST: '127.0.0.1',
        XCHG_CENTRAL_NATS_URLS: natsUrl,
        XCHG_CENTRAL_HEARTBEAT_TTL_MS: '6000',
        // Probe rounds every second (default 5 s) so that the first routes are chosen within seconds.
        XCHG_CENTRAL_PROBE_INTERVAL_MS: '1000',
      },
    );
    children.push(central);
    const listening = await central.waitFor((l) => l['msg'] === 'central listening');
    const base = `http://127.0.0.1:${String(listening['httpPort'])}`;
    const grpcAddress = `127.0.0.1:${String(listening['grpcPort'])}`;
    const tokenFile = join(dir, 'central', 'admin.token');
    const admin = readFileSync(tokenFile, 'utf8').trim();
    step(`交换管理中心 central: ${base} (gRPC ${grpcAddress})`);

    /** A client of the HTTP API acting as the holder of `token`. */
    const client =
      (token: string, who: string) =>
      async <T>(method: string, path: string, body?: unknown): Promise<T> => {
        const res = await fetch(`${base}/api/v1${path}`, {
          method,
          headers: {
            authorization: `Bearer ${token}`,
            ...(body !== undefined && { 'content-type': 'application/json' }),
          },
          ...(body !== undefined && { body: JSON.stringify(body) }),
        });
        const json = (await res.json()) as T & { error?: { message: string } };
        if (res.status >= 300) throw new Error(`${method} ${path} (as ${who}): ${json.error?.message ?? res.status}`);
        return json;
      };
    const api = client(admin, 'admin');
    for (const r of REGIONS) await api('POST', '/regions', r);
    for (const d of [...DEPTS, RELAY_DEPT])
      await api('POST', '/departments', { code: d.code, name: d.name, regionCode: d.region });
    step(`行政区划 ${REGIONS.length} regions, 部门 ${DEPTS.length + 1} departments registered`);
    await registerCenters(api, centerUrls);
    step(
      `交换中心 ${CENTERS.length} centers and 3 links registered (province–nanchang, province–ganzhou, nanchang–ganzhou)`,
    );

    // Department data (synthetic): the police department's population register, the market regulator's
    // legal-person register and the civil-affairs bureau's licence files.
    const data = (dept: string, ...rest: string[]): string => join(dir, 'data', dept, ...rest);
    for (const d of DEPTS) mkdirSync(data(d.code), { recursive: true });
    seedPopulation(data('jx-gat', 'population.db'), POPULATION_ROWS);
    seedLegalPersons(data('nc-scjgj', 'market.db'), LEGAL_PERSON_ROWS);
    seedLicenceFiles(data('gz-mzj', 'licences'), LICENCE_FILES);
    step(
      `部门数据 department data: ${POPULATION_ROWS} people (人口), ${LEGAL_PERSON_ROWS} enterprises (法人), ${LICENCE_FILES} licence files (证照)`,
    );

    const bindings: Record<
      string,
      { sources?: Record<string, unknown>; sinks?: Record<string, unknown>; queryListen?: string }
    > = {
      // Population is shared conditionally: the agent itself sends it only under an agreement, and only its fields.
      'jx-gat': {
        sources: {
          population: {
            type: 'sqlite',
            path: data('jx-gat', 'population.db'),
            table: 'person',
            key: 'id',
            cursor: 'updated_at',
            deleted: 'deleted',
            queryKeys: ['id', 'id_no'],
            requireAgreement: true,
          },
        },
      },
      'nc-scjgj': {
        sources: {
          legal_person: {
            type: 'sqlite',
            path: data('nc-scjgj', 'market.db'),
            table: 'legal_person',
            key: 'id',
            cursor: 'updated_at',
          },
        },
      },
      'gz-mzj': {
        sources: { licences: { type: 'files', dir: data('gz-mzj', 'licences'), stableMs: 200 } },
        sinks: { population: { type: 'sqlite', path: data('gz-mzj', 'received.db'), table: 'person', key: 'id' } },
      },
      'nc-gaj': {
        sinks: {
          population: { type: 'sqlite', path: data('nc-gaj', 'received.db'), table: 'person', key: 'id' },
          licences: { type: 'files', dir: data('nc-gaj', 'licences') },
        },
        queryListen: '127.0.0.1:0',
      },
      'gz-rsj': {
        sinks: {
          legal_person: { type: 'sqlite', path: data('gz-rsj', 'received.db'), table: 'legal_person', key: 'id' },
        },
      },
    };
    const nodeIds = new Map<string, string>();
    const agents = new Map<string, Child>();
    let queryPort = 0;
    for (const d of DEPTS) {
      const { token } = await api<{ token: string }>('POST', '/tokens', { departmentCode: d.code, nodeName: d.node });
      const dataDir = join(dir, 'agents', d.node);
      mkdirSync(dataDir, { recursive: true });
      const configFile = join(dataDir, 'agent.yaml');
      writeFileSync(
        configFile,
        stringify({
          dataDir,
          central: { address: grpcAddress, enrollToken: token },
          reportIntervalMs: 5000,
          labels: { demo: 'true' },
          dataPlane: { pollIntervalMs: 200, runReportIntervalMs: 2000 },
          ...bindings[d.code],
        }),
      );
      const agent = startChild(
        d.node,
        process.execPath,
        [...AGENT_NODE_FLAGS, requireBuilt('bin/xchg-agent.js'), '--config', configFile],
        join(dir, 'logs', `${d.node}.log`),
      );
      children.push(agent);
      agents.set(d.code, agent);
      nodeIds.set(d.code, String((await agent.waitFor((l) => l['msg'] === 'agent running'))['nodeId']));
      if (bindings[d.code]?.queryListen)
        queryPort = Number((await agent.waitFor((l) => l['msg'] === 'query api listening'))['port']);
    }
    // A relay agent at each center, made its relay through the API; the cities' nodes moved to their center.
    const relays = await startRelayAgents(api, dir, grpcAddress, children);
    await designateRelays(api, relays);
    for (const d of DEPTS) await moveNode(api, agents.get(d.code)!, nodeIds.get(d.code)!, centerOf(d));
    step(
      `中继 a relay at each center; nodes moved to their city's center: ${DEPTS.map((d) => `${d.node}@${centerOf(d)}`).join(', ')}`,
    );
    const total = DEPTS.length + relays.size;
    const deadline = Date.now() + 30_000;
    let nodes: { name: string; departmentCode: string; regionCode: string; status: string }[] = [];
    while (Date.now() < deadline) {
      nodes = await api('GET', '/nodes');
      if (nodes.length === total && nodes.every((n) => n.status === 'online')) break;
      await new Promise((r) => setTimeout(r, 200));
    }

    // 信息资源目录: each provider department's officer (数据专员) catalogs and publishes its resource; the
    // consumers' officers subscribe, or apply for a conditional resource and the provider's officer approves.
    const officers = new Map<string, ReturnType<typeof client>>();
    for (const d of DEPTS) {
      const name = `officer-${d.code}`;
      const { token } = await api<{ token: string }>('POST', '/users', {
        name,
        role: 'officer',
        departmentCode: d.code,
      });
      officers.set(d.code, client(token, name));
    }
    const officer = (dept: string): ReturnType<typeof client> => officers.get(dept)!;
    const catalog: CatalogEntry[] = [
      {
        code: 'jx-gat.population',
        name: '人口基础信息',
        provider: 'jx-gat',
        description: '全省常住人口基础信息（身份证号、姓名、性别、出生日期、联系电话、住址）',
        fields: catalogFields(PERSON_FIELDS),
        format: 'table',
        shareType: 'conditional',
        conditions: '仅用于履行法定职责所需的身份核验和资格审核，不得向第三方提供',
        shareMethods: ['database_sync', 'online_query'],
        updateCycle: 'daily',
        binding: 'population',
      },
      {
        code: 'nc-scjgj.legal_person',
        name: '法人基础信息',
        provider: 'nc-scjgj',
        description: '市场主体登记信息（统一社会信用代码、名称、法定代表人、注册资本、登记状态）',
        fields: catalogFields(LEGAL_PERSON_FIELDS),
        format: 'table',
        shareType: 'unconditional',
        shareMethods: ['database_sync'],
        updateCycle: 'daily',
        binding: 'legal_person',
      },
      {
        code: 'gz-mzj.licences',
        name: '电子证照',
        provider: 'gz-mzj',
        description: '证照文件（文本证照与扫描件）',
        fields: [
          { name: 'path', type: 'string', required: true },
          { name: 'size', type: 'integer', required: false },
          { name: 'sha256', type: 'string', required: false },
        ],
        format: 'txt,jpg',
        shareType: 'unconditional',
        shareMethods: ['file_transfer'],
        updateCycle: 'irregular',
        binding: 'licences',
      },
    ];
    const flows: Flow[] = [
      {
        key: 'pop-nc',
        title: '人口 population → 南昌市公安局 (masked)',
        resource: 'jx-gat.population',
        to: 'nc-gaj',
        sink: 'population',
        apply: { purpose: '治安管理和案件侦办中的身份核验', fields: PERSON_FIELDS.map(published) },
        check: () =>
          table(
            data('jx-gat', 'population.db'),
            'person',
            data('nc-gaj', 'received.db'),
            'person',
            delivered(PERSON_FIELDS),
            POPULATION_ROWS,
            'deleted',
          ),
      },
      {
        key: 'pop-gz',
        title: '人口 population → 赣州市民政局 (6 fields)',
        resource: 'jx-gat.population',
        to: 'gz-mzj',
        sink: 'population',
        apply: { purpose: '最低生活保障和特困人员救助资格审核', fields: PERSON_FIELDS_GZ.map(published) },
        check: () =>
          table(
            data('jx-gat', 'population.db'),
            'person',
            data('gz-mzj', 'received.db'),
            'person',
            delivered(PERSON_FIELDS_GZ),
            POPULATION_ROWS,
            'deleted',
          ),
      },
      {
        key: 'lp-gz',
        title: '法人 legal persons → 赣州市人社局',
        resource: 'nc-scjgj.legal_person',
        to: 'gz-rsj',
        sink: 'legal_person',
        check: () =>
          table(
            data('nc-scjgj', 'market.db'),
            'legal_person',
            data('gz-rsj', 'received.db'),
            'legal_person',
            delivered(LEGAL_PERSON_FIELDS),
            LEGAL_PERSON_ROWS,
          ),
      },
      {
        key: 'lic-nc',
        title: '证照 licence files → 南昌市公安局',
        resource: 'gz-mzj.licences',
        to: 'nc-gaj',
        sink: 'licences',
        check: () => {
          const c = compareTrees(data('gz-mzj', 'licences'), data('nc-gaj', 'licences'));
          return {
            done: c.problems.length === 0,
            detail: `${c.files} files, ${(c.bytes / 1024 / 1024).toFixed(1)} MiB`,
            problems: c.problems,
          };
        },
      },
    ];
    const started = Date.now();
    for (const r of catalog) {
      const { provider, ...entry } = r;
      await officer(provider)('POST', '/resources', {
        ...entry,
        providerDepartmentCode: provider,
        providerNodeId: nodeIds.get(provider)!,
      });
      await officer(provider)('POST', `/resources/${r.code}/publish`);
    }
    const subscriptionIds = new Map<string, string>();
    let approved = 0;
    for (const f of flows) {
      const r = catalog.find((c) => c.code === f.resource)!;
      let agreementId: string | undefined;
      if (f.apply) {
        const app = await officer(f.to)<{ id: string }>('POST', '/applications', {
          resourceCode: r.code,
          purpose: f.apply.purpose,
          fields: f.apply.fields,
        });
        const { agreement } = await officer(r.provider)<{ agreement: { id: string; fields: string[] } }>(
          'POST',
          `/applications/${app.id}/approve`,
          { note: '符合共享条件' },
        );
        if (agreement.fields.join() !== f.apply.fields.join())
          throw new Error(
            `agreement ${agreement.id} grants ${agreement.fields.join(', ')}, not the fields applied for`,
          );
        agreementId = agreement.id;
        approved++;
      }
      const sub = await officer(f.to)<{ id: string }>('POST', '/subscriptions', {
        ...(agreementId ? { agreementId } : { resourceCode: r.code }),
        consumerNodeId: nodeIds.get(f.to)!,
        sinkBinding: f.sink,
      });
      subscriptionIds.set(f.key, sub.id);
    }
    const conditional = catalog.filter((r) => r.shareType === 'conditional').length;
    step(
      `资源目录 ${catalog.length} resources published (${conditional} conditional); ${approved} applications approved; ${subscriptionIds.size} subscriptions`,
    );
    step(
      `交换任务 ${subscriptionIds.size} subscriptions started (a sync task at each provider, an exchange task at each consumer)`,
    );

    const online = nodes.filter((n) => n.status === 'online').length;
    console.log('');
    console.log('  节点 node            部门 department        行政区划 region   状态 status');
    for (const n of nodes)
      console.log(`  ${n.name.padEnd(20)} ${n.departmentCode.padEnd(21)} ${n.regionCode.padEnd(17)} ${n.status}`);
    console.log('');
    console.log(`  ${online}/${total} agents online (联通率 ${((100 * online) / total).toFixed(0)}%)`);
    // A city admin (市级管理员) of 南昌, so the dashboard's city scope can be tried beside the province's.
    const cityAdmin = await api<{ token: string }>('POST', '/users', {
      name: 'city-admin-nanchang',
      role: 'city_admin',
      regionCode: '360100',
    });
    const cityTokenFile = join(dir, 'central', 'city-admin-360100.token');
    writeFileSync(cityTokenFile, `${cityAdmin.token}\n`, { mode: 0o600 });
    console.log(`  dashboard:       ${base}/dashboard   (sign in with a token below)`);
    console.log(`  API docs:        ${base}/api/v1/openapi.json`);
    console.log(`  admin token:     ${tokenFile}   (province admin: the whole province)`);
    console.log(`  南昌 city admin: ${cityTokenFile}   (sees 南昌市 only)`);
    console.log(`  CLI:             XCHG_SERVER=${base} XCHG_TOKEN=$(cat ${tokenFile}) npx xchg node list`);
    console.log(`  logs:            ${join(dir, 'logs')}`);
    if (online !== total) throw new Error(`only ${online} of ${total} agents came online within 30 s`);

    // Wait until every flow has delivered and the destination equals the source after masking.
    const waitUntil = Date.now() + 300_000;
    let results = flows.map((f) => ({ f, r: f.check() }));
    while (results.some((x) => !x.r.done) && Date.now() < waitUntil) {
      await new Promise((r) => setTimeout(r, 1000));
      results = flows.map((f) => ({ f, r: f.check() }));
    }
    const elapsedS = (Date.now() - started) / 1000;
    console.log('');
    for (const { f, r } of results) {
      const provider = DEPTS.find((d) => d.code === catalog.find((c) => c.code === f.resource)!.provider)!;
      const route = await routeOf(api, centerOf(provider), centerOf(DEPTS.find((d) => d.code === f.to)!));
      console.log(
        `  ${r.done ? 'OK  ' : 'FAIL'} ${f.title.padEnd(40)} ${r.detail.padEnd(18)} route ${route}${r.problems.length ? `\n         ${r.problems.slice(0, 5).join('\n         ')}` : ''}`,
      );
    }
    console.log(`  all flows checked against their sources after masking in ${elapsedS.toFixed(1)} s`);
    const sample = new Database(data('jx-gat', 'population.db'), { readonly: true })
      .prepare('SELECT id_no FROM person WHERE id = 4242')
      .get() as { id_no: string };
    // Asked by the subscription's id and a cataloged key field (the catalog keeps the source's column names).
    const q = await fetch(
      `http://127.0.0.1:${queryPort}/v1/query/${subscriptionIds.get('pop-nc')!}?sfzh=${sample.id_no}`,
    ).then((r) => r.json() as Promise<{ found: boolean; record: Record<string, unknown>; elapsedMs: number }>);
    console.log(
      `  联机查询 online query at 南昌市公安局 for ID ${sample.id_no}: ${JSON.stringify(q.record)} (${q.elapsedMs.toFixed(1)} ms)`,
    );
    const failed = results.filter((x) => !x.r.done);
    if (failed.length)
      throw new Error(`${failed.length} flow(s) did not match their source: ${failed.map((x) => x.f.key).join(', ')}`);
    if (values.once) {
      await stopAll();
      console.log('\n  demo: OK');
      return 0;
    }
    console.log('\n  running; Ctrl-C to stop');
    await new Promise(() => undefined);
    return 0;
  } catch (err) {
    console.error(`demo: FAILED: ${err instanceof Error ? err.message : String(err)}`);
    await stopAll();
    return 1;
  }
}

function table(
  srcPath: string,
  srcTable: string,
  dstPath: string,
  dstTable: string,
  fields: readonly { name: string; as?: string; mask?: string }[],
  want: number,
  deleted?: string,
) {
  try {
    // Count first (cheap); compare value by value only once everything is there.
    const db = new Database(dstPath, { readonly: true, fileMustExist: true });
    const have = (db.prepare(`SELECT count(*) AS n FROM ${dstTable}`).get() as { n: number }).n;
    const columns = (db.prepare(`PRAGMA table_info(${dstTable})`).all() as { name: string }[]).map((c) => c.name);
    db.close();
    if (have < want) return { done: false, detail: `${have}/${want} records`, problems: [] };
    // Exactly the granted fields arrive: nothing beyond what the agreement (or the catalog) covers.
    const granted = fields.map((f) => f.as ?? f.name);
    if (columns.join() !== granted.join())
      return {
        done: false,
        detail: `${have}/${want} records`,
        problems: [`columns ${columns.join(', ')}; granted ${granted.join(', ')}`],
      };
    const c = compareTables(
      { path: srcPath, table: srcTable, key: 'id', ...(deleted && { deleted }) },
      { path: dstPath, table: dstTable },
      fields,
    );
    return {
      done: c.problems.length === 0 && c.rows === want,
      detail: `${c.rows}/${want} records`,
      problems: c.rows === want ? c.problems : [],
    };
  } catch {
    return { done: false, detail: `0/${want} records`, problems: [] };
  }
}

/** The center a department's node is homed at: its city's, else the province's. */
function centerOf(d: Dept): string {
  return CENTERS.find((c) => c.regionCode === d.region)?.code ?? PROVINCE_CENTER;
}

function step(msg: string): void {
  console.log(`• ${msg}`);
}

async function preferredPort(port: number): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => void freePort().then(resolve));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(port)));
  });
}

async function waitPort(port: number): Promise<void> {
  const { connect } = await import('node:net');
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1', () => {
        s.end();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listening on port ${port} after 10 s`);
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`demo failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  },
);
