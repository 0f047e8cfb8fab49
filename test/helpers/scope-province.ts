// The two-city province of the scope tests (city-scope, officer-scope) and the GET calls they make: every GET route of
// the OpenAPI document with path parameters filled by given ids, and with query parameters naming another scope's
// data. Built over the real services (central-deps), no HTTP.
import { Role, SYSTEM_ACTOR, type Actor } from '../../central/src/domain/roles.js';
import type { CentralDeps } from './central-deps.js';

const ADMIN: Actor = { name: 'admin', role: Role.PROVINCE_ADMIN };

/** What province() made: tokens, ids of either city, the other city's values for query parameters. */
export type Province = ReturnType<typeof province>;

/** Two cities, each with two departments, an enrolled node each, a task, traffic, a token; a city admin of 360100. */
export function province(d: CentralDeps) {
  const r = d.registry;
  r.createRegion({ code: '360000', name: '江西省', level: 'province' });
  r.createRegion({ code: '360100', name: '南昌市', level: 'city', parentCode: '360000' });
  r.createRegion({ code: '360200', name: '景德镇市', level: 'city', parentCode: '360000' });
  const depts = { ncGaj: 'nc-gaj', ncWjw: 'nc-wjw', jdzGaj: 'jdz-gaj', jdzWjw: 'jdz-wjw' } as const;
  for (const code of Object.values(depts))
    r.createDepartment({ code, name: `${code} 部门`, regionCode: code.startsWith('nc') ? '360100' : '360200' });
  const enroll = (dept: string): string => {
    const { token } = d.nodes.createToken({ departmentCode: dept, nodeName: `${dept}-01` });
    const node = d.nodes.enroll({ token, hostname: `${dept}.host`, agentVersion: '0.1.0', labels: {} }).node;
    d.nodes.heartbeat(
      node,
      { cpuPercent: 5, memRssBytes: 1, diskFreeBytes: 1e9, spoolDepth: 0, outboxDepth: 0 },
      '0.1.0',
    );
    return node.id;
  };
  const node = {
    ncGaj: enroll('nc-gaj'),
    ncWjw: enroll('nc-wjw'),
    jdzGaj: enroll('jdz-gaj'),
    jdzWjw: enroll('jdz-wjw'),
  };
  const spare = d.nodes.createToken({ departmentCode: 'jdz-gaj', nodeName: 'jdz-gaj-02' }).record.id;
  const task = (name: string, from: string, to: string) =>
    d.assignments.createTask({ name, kind: 'sync', nodeId: from, peerNodeId: to, binding: 'db' }).id;
  const ncTask = task('nc-pair', node.ncGaj, node.ncWjw);
  const jdzTask = task('jdz-pair', node.jdzGaj, node.jdzWjw);
  const at = d.clock();
  let seq = 0;
  for (const [from, to, res] of [
    [node.ncGaj, node.ncWjw, 'R-NC'],
    [node.jdzGaj, node.jdzWjw, 'R-JDZ'],
  ] as const) {
    seq += 1;
    const body = {
      sourceNodeId: from,
      destinationNodeId: to,
      resourceCode: res,
      bucketMs: 300_000,
      bucketStartMs: Math.floor((at - 600_000) / 300_000) * 300_000,
      batches: 1,
      records: 100,
      bytes: 1000,
      errors: 0,
      latencyP50Ms: 20,
      latencyP99Ms: 40,
    };
    d.reports.ingest(to, [{ reportId: `t-${seq}`, seq, observedAtMs: at, kind: 'traffic', body }]);
  }
  const alert = (dept: string, nodeId: string): string => {
    d.alerts.raise({ kind: 'node_offline', entityId: nodeId, departmentCode: dept, message: `${nodeId} offline`, at });
    return String(d.store.alerts.open('node_offline', nodeId)!.id);
  };
  const alerts = { nc: alert('nc-gaj', node.ncGaj), jdz: alert('jdz-gaj', node.jdzGaj) };
  // An application in each city: its consumer applies for its own city's published resource.
  for (const [code, provider] of [
    ['R-NC', 'nc-gaj'],
    ['R-JDZ2', 'jdz-gaj'],
  ] as const) {
    d.catalog.create(
      {
        code,
        name: `${code} 资源`,
        providerDepartmentCode: provider,
        fields: [{ name: 'id', type: 'integer', required: true }],
        shareType: 'conditional',
        conditions: '审核',
        providerNodeId: provider === 'nc-gaj' ? node.ncGaj : node.jdzGaj,
        binding: 'db',
      },
      ADMIN,
    );
    d.catalog.publish(code, ADMIN);
  }
  const ncApp = d.sharing.apply({ resourceCode: 'R-NC', consumerDepartmentCode: 'nc-wjw', purpose: '核查' }, ADMIN).id;
  const jdzApp = d.sharing.apply(
    { resourceCode: 'R-JDZ2', consumerDepartmentCode: 'jdz-wjw', purpose: '核查' },
    ADMIN,
  ).id;
  // Answered by another province admin (an application is not answered by its applicant): an agreement each.
  const CLERK: Actor = { name: 'clerk', role: Role.PROVINCE_ADMIN };
  const ncAg = d.sharing.approve(ncApp, {}, CLERK).agreement.id;
  const jdzAg = d.sharing.approve(jdzApp, {}, CLERK).agreement.id;
  const sub = (agreementId: string, consumerNodeId: string) =>
    d.sharing.subscribe({ agreementId, consumerNodeId, sinkBinding: 'db' }, CLERK).id;
  const ncSub = sub(ncAg, node.ncWjw);
  const jdzSub = sub(jdzAg, node.jdzWjw);
  const cityToken = d.users.create({ name: 'nc-admin', role: 'city_admin', regionCode: '360100' }, SYSTEM_ACTOR).token;
  return {
    cityToken,
    /** Ids of the other city (360200) to put into path parameters, and the strings that identify it. */
    outside: ['360200', depts.jdzGaj, depts.jdzWjw, node.jdzGaj, node.jdzWjw, jdzTask, spare, jdzApp, jdzAg, jdzSub],
    own: ['360100', depts.ncGaj, node.ncGaj, ncTask, ncApp, ncAg, ncSub],
    /** The other city's values for query parameters, by what they name. */
    foreign: {
      region: ['360200'],
      department: [depts.jdzGaj, depts.jdzWjw] as string[],
      node: [node.jdzGaj, node.jdzWjw, spare],
      resource: ['R-JDZ', 'R-JDZ2'],
      task: [jdzTask],
      agreement: [jdzAg],
      center: ['jdz'],
      text: ['jdz'],
    },
    /** Numeric ids: path parameters only (as strings they would match any number in a body). */
    alerts,
    node,
    spare,
  };
}

/** Every GET path of the OpenAPI document with its path parameters filled by each of `ids`. */
export function urls(
  doc: { paths: Record<string, Record<string, unknown>> },
  ids: string[],
): { route: string; url: string }[] {
  const out: { route: string; url: string }[] = [];
  for (const [route, ops] of Object.entries(doc.paths)) {
    if (!ops['get']) continue;
    if (!route.includes('{')) out.push({ route, url: route });
    else for (const id of ids) out.push({ route, url: route.replace(/\{[^}]+\}/g, encodeURIComponent(id)) });
  }
  return out;
}

/**
 * What each query parameter that can name another city's data names, so it is filled with the other city's values
 * (other query parameters are left out). from/to are node pairs (traffic, surges); q searches nodes.
 */
export const QUERY_NAMES: Record<string, keyof Province['foreign']> = {
  region: 'region',
  department: 'department',
  provider: 'department',
  consumer: 'department',
  node: 'node',
  from: 'node',
  to: 'node',
  entity: 'node',
  resource: 'resource',
  task: 'task',
  agreement: 'agreement',
  center: 'center',
  q: 'text',
};

/**
 * Every GET path without path parameters that takes a query parameter naming a city's data, called with each of
 * the other city's values in it (each alone; from and to also as pairs: both the other city's, or one end each),
 * as `route?name=value[&...]`. A pair with one end in the city is the city's own flow (its node sends to or
 * receives from the other city): its other end may be named in the answer (`counterpart`), nothing else may.
 */
export function queryUrls(
  doc: { paths: Record<string, Record<string, { parameters?: { in: string; name: string }[] }>> },
  foreign: Province['foreign'],
  ownNode: string,
): { route: string; url: string; counterpart?: string }[] {
  const out: { route: string; url: string; counterpart?: string }[] = [];
  for (const [route, ops] of Object.entries(doc.paths)) {
    const names = (ops['get']?.parameters ?? []).filter((q) => q.in === 'query').map((q) => q.name);
    if (route.includes('{')) continue;
    for (const name of names) {
      const what = QUERY_NAMES[name];
      if (what) for (const v of foreign[what]) out.push({ route, url: `${route}?${name}=${encodeURIComponent(v)}` });
    }
    if (names.includes('from') && names.includes('to')) {
      const [a, b] = foreign.node;
      out.push({ route, url: `${route}?from=${a}&to=${b}` });
      out.push({ route, url: `${route}?from=${ownNode}&to=${b}`, counterpart: b });
      out.push({ route, url: `${route}?from=${a}&to=${ownNode}`, counterpart: a });
    }
  }
  return out;
}
