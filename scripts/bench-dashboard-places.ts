// The dashboard bench's province, its places: regions (a province, its cities and counties), departments, exchange
// centers and their links, nodes with health and liveness history. Ids and codes are derived from indexes.
import type { Db } from '../central/src/store/db.js';
import { hashSecret } from '../central/src/ids.js';
import type { ProvinceSize } from './bench-dashboard-gen.js';

export const COUNTIES_PER_CITY = 3;
export const PROVINCE_CODE = '360000';
export const DAY_MS = 86_400_000;
export const HOUR_MS = 3_600_000;

/** mulberry32: a small seeded PRNG, so the same seed gives the same province. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export const cityCode = (c: number): string => `36${String(c + 1).padStart(2, '0')}00`;
export const countyCode = (c: number, k: number): string =>
  `36${String(c + 1).padStart(2, '0')}${String(k + 1).padStart(2, '0')}`;
export const nodeId = (i: number): string => `nd-${i.toString(16).padStart(12, '0')}`;
export const deptCode = (i: number): string => `d${String(i).padStart(4, '0')}`;

export interface Geo {
  /** Region of each department, by index. */
  deptRegion: string[];
  /** Department of each node, by index. */
  nodeDept: number[];
  /** The city (index) of each department; -1 for province-level departments. */
  deptCity: number[];
}

export function regionsAndDepartments(db: Db, size: ProvinceSize, now: number, rnd: () => number): Geo {
  const region = db.prepare('INSERT INTO regions (code, name, level, parent_code, created_at) VALUES (?, ?, ?, ?, ?)');
  region.run(PROVINCE_CODE, '江西省', 'province', null, now - 400 * DAY_MS);
  const places: { code: string; city: number }[] = [{ code: PROVINCE_CODE, city: -1 }];
  for (let c = 0; c < size.cities; c++) {
    region.run(cityCode(c), `城市${c + 1}`, 'city', PROVINCE_CODE, now - 400 * DAY_MS);
    places.push({ code: cityCode(c), city: c });
    for (let k = 0; k < COUNTIES_PER_CITY; k++) {
      region.run(countyCode(c, k), `城市${c + 1}县${k + 1}`, 'county', cityCode(c), now - 400 * DAY_MS);
      places.push({ code: countyCode(c, k), city: c });
    }
  }
  const dept = db.prepare('INSERT INTO departments (code, name, region_code, created_at) VALUES (?, ?, ?, ?)');
  const deptRegion: string[] = [];
  const deptCity: number[] = [];
  for (let i = 0; i < size.departments; i++) {
    // About 1 in 15 departments at the province; the rest spread over cities and their counties.
    const place = i % 15 === 0 ? places[0]! : places[1 + Math.floor(rnd() * (places.length - 1))]!;
    dept.run(deptCode(i), `部门${i}`, place.code, now - 390 * DAY_MS);
    deptRegion.push(place.code);
    deptCity.push(place.city);
  }
  // Every department has a node; the rest go to departments at random (a department runs one to several).
  const nodeDept: number[] = [];
  for (let i = 0; i < size.nodes; i++) nodeDept.push(i < size.departments ? i : Math.floor(rnd() * size.departments));
  return { deptRegion, nodeDept, deptCity };
}

export function nodesAndCenters(db: Db, size: ProvinceSize, geo: Geo, now: number, rnd: () => number): void {
  const center = db.prepare(
    'INSERT INTO centers (code, name, region_code, level, nats_urls, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
  );
  const centerOf = (city: number): string => (city < 0 ? 'province' : `city${city + 1}`);
  center.run('province', '省交换中心', PROVINCE_CODE, 'province', '["nats://127.0.0.1:1"]', now, now);
  for (let c = 0; c < size.cities; c++)
    center.run(centerOf(c), `城市${c + 1}交换中心`, cityCode(c), 'city', '["nats://127.0.0.1:1"]', now, now);
  const link = db.prepare(
    'INSERT INTO links (id, a, b, capacity_bps, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)',
  );
  const state = db.prepare(
    `INSERT INTO link_states (link_id, state, reason, state_since, healthy_since, evidence, evaluated_at)
     VALUES (?, ?, NULL, ?, ?, NULL, ?)`,
  );
  const links: [string, string][] = [];
  for (let c = 0; c < size.cities; c++) links.push(['province', centerOf(c)]);
  for (let c = 0; c + 1 < size.cities; c += 2) links.push([centerOf(c), centerOf(c + 1)]);
  links.forEach(([a, b], i) => {
    link.run(`lk-${i}`, a, b, 100_000_000, now, now);
    const s = i % 9 === 4 ? 'degraded' : 'up';
    state.run(`lk-${i}`, s, now - 3_600_000, s === 'up' ? now - DAY_MS : null, now);
  });
  const node = db.prepare(
    `INSERT INTO nodes (id, name, department_code, hostname, agent_version, labels_json, secret_hash, status, enabled,
       enrolled_at, last_heartbeat_at, health_json, home_center) VALUES (?, ?, ?, ?, ?, '{}', ?, ?, 1, ?, ?, ?, ?)`,
  );
  const event = db.prepare('INSERT INTO node_events (node_id, at, kind, reason) VALUES (?, ?, ?, ?)');
  for (let i = 0; i < size.nodes; i++) {
    const d = geo.nodeDept[i]!;
    const offline = rnd() < 0.06; // ~6 % offline: the 联通率 is not 100 %
    const enrolled = now - (200 + Math.floor(rnd() * 170)) * DAY_MS;
    const last = offline ? now - Math.floor(1 + rnd() * 72) * HOUR_MS : now - Math.floor(rnd() * 10_000);
    const spool = Math.floor(rnd() < 0.03 ? 20_000 + rnd() * 100_000 : rnd() * 200);
    const health = {
      agentVersion: i % 7 === 0 ? '0.1.0' : '0.1.1',
      uptimeS: Math.floor(rnd() * 2_000_000),
      cpuPercent: Math.round(rnd() * 900) / 10,
      memRssBytes: Math.floor(80e6 + rnd() * 200e6),
      diskFreeBytes: Math.floor(1e10 + rnd() * 1e11),
      spoolDepth: spool,
      spoolBytes: spool * 2100,
      state: 'RUNNING',
    };
    const id = nodeId(i);
    node.run(
      id,
      `n${i}`,
      deptCode(d),
      `host-${i}`,
      health.agentVersion,
      hashSecret(id),
      offline ? 'offline' : 'online',
      enrolled,
      last,
      JSON.stringify(health),
      centerOf(geo.deptCity[d]!),
    );
    event.run(id, enrolled, 'enrolled', '');
    event.run(id, enrolled + 60_000, 'online', '');
    // A few outages over the months, then the current state.
    for (let k = 0, t = enrolled + DAY_MS; k < 3; k++, t += Math.floor(rnd() * 60) * DAY_MS + DAY_MS) {
      if (t >= last) break;
      event.run(id, t, 'offline', 'heartbeat TTL missed');
      event.run(id, t + Math.floor(rnd() * 6) * HOUR_MS + 60_000, 'online', '');
    }
    if (offline) event.run(id, last + 15_000, 'offline', 'heartbeat TTL missed');
  }
}
