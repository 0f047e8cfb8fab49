// The dashboard bench's province, its flows and governance: the catalog (three resources a department), 3,000
// active subscriptions with their tasks (the traffic series), applications and agreements, alerts, task runs, users.
import type { Db } from '../central/src/store/db.js';
import { hashSecret, newSecret } from '../central/src/ids.js';
import type { ProvinceSize } from './bench-dashboard-gen.js';
import { cityCode, DAY_MS, deptCode, HOUR_MS, nodeId, type Geo } from './bench-dashboard-places.js';

/** A generated traffic series: an active subscription's provider node → consumer node for its resource. */
export interface GenPair {
  from: string;
  to: string;
  resource: string;
  shape: 'office' | 'nightly' | 'realtime' | 'sporadic';
  /** Records per active hour, about. */
  level: number;
  live: boolean;
  /** The subscription (its tasks: `<id>-s` sync at the provider, `<id>-x` exchange at the consumer). */
  subscription: string;
}

export function catalogAndSubscriptions(
  db: Db,
  size: ProvinceSize,
  geo: Geo,
  now: number,
  rnd: () => number,
): GenPair[] {
  const nodesOf: string[][] = Array.from({ length: size.departments }, () => []);
  geo.nodeDept.forEach((d, i) => nodesOf[d]!.push(nodeId(i)));
  const resource = db.prepare(
    `INSERT INTO resources (code, name, provider_department_code, fields_json, format, share_type, legal_basis,
       share_methods_json, update_cycle, binding, provider_node_id, status, version, created_at, updated_at, published_at)
     VALUES (?, ?, ?, '[{"name":"id","type":"integer"}]', 'table', ?, ?, '["db_sync"]', 'daily', 'src', ?, ?, 1, ?, ?, ?)`,
  );
  const codes: { code: string; dept: number; type: string }[] = [];
  for (let d = 0; d < size.departments; d++)
    for (let k = 0; k < 3; k++) {
      const code = `r${String(d).padStart(4, '0')}-${k}`;
      const type = k === 2 ? 'conditional' : rnd() < 0.05 ? 'not_shared' : 'unconditional';
      const status = rnd() < 0.08 ? 'draft' : 'published';
      const at = now - Math.floor(30 + rnd() * 330) * DAY_MS;
      resource.run(
        code,
        `资源${code}`,
        deptCode(d),
        type,
        type === 'not_shared' ? '法律依据' : '',
        nodesOf[d]![0]!,
        status,
        at,
        at,
        status === 'published' ? at : null,
      );
      if (status === 'published' && type !== 'not_shared') codes.push({ code, dept: d, type });
    }
  applications(db, size, codes, now, rnd);
  const task = db.prepare(
    `INSERT INTO tasks (id, name, kind, node_id, peer_node_id, resource_code, subscription_id, binding, interval_ms,
       created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'src', 60000, ?, ?)`,
  );
  const sub = db.prepare(
    `INSERT INTO subscriptions (id, resource_code, provider_department_code, consumer_department_code, provider_node_id,
       consumer_node_id, sink_binding, method, fields_json, sync_task_id, exchange_task_id, status, created_at, created_by)
     VALUES (?, ?, ?, ?, ?, ?, 'sink', 'db_sync', '["id"]', ?, ?, 'active', ?, 'bench')`,
  );
  const shapes: GenPair['shape'][] = ['office', 'office', 'office', 'office', 'nightly', 'nightly', 'nightly'];
  shapes.push('realtime', 'sporadic', 'sporadic');
  const pairs: GenPair[] = [];
  const seen = new Set<string>();
  for (let i = 0; pairs.length < size.pairs; i++) {
    const r = codes[Math.floor(rnd() * codes.length)]!;
    // Most flows stay in a city; a third cross to another city or the province.
    const local = rnd() < 0.67;
    let c = Math.floor(rnd() * size.departments);
    for (let tries = 0; local && tries < 50 && geo.deptCity[c] !== geo.deptCity[r.dept]; tries++)
      c = Math.floor(rnd() * size.departments);
    if (c === r.dept) continue;
    const from = nodesOf[r.dept]![Math.floor(rnd() * nodesOf[r.dept]!.length)]!;
    const to = nodesOf[c]![Math.floor(rnd() * nodesOf[c]!.length)]!;
    if (seen.has(`${from}|${to}|${r.code}`)) continue;
    seen.add(`${from}|${to}|${r.code}`);
    const id = `sub-${String(i).padStart(6, '0')}`;
    const at = now - Math.floor(size.historyDays + 5) * DAY_MS;
    task.run(`${id}-s`, `sync ${r.code}`, 'sync', from, to, r.code, id, at, at);
    task.run(`${id}-x`, `exchange ${r.code}`, 'exchange', to, from, r.code, id, at, at);
    sub.run(id, r.code, deptCode(r.dept), deptCode(c), from, to, `${id}-s`, `${id}-x`, at);
    const shape = shapes[Math.floor(rnd() * shapes.length)]!;
    const level = Math.floor(10 ** (1 + rnd() * 3)); // 10 .. 10,000 records an active hour
    pairs.push({ from, to, resource: r.code, shape, level, live: rnd() < size.liveShare, subscription: id });
  }
  return pairs;
}

function applications(
  db: Db,
  size: ProvinceSize,
  codes: { code: string; dept: number; type: string }[],
  now: number,
  rnd: () => number,
): void {
  const conditional = codes.filter((c) => c.type === 'conditional');
  const app = db.prepare(
    `INSERT INTO applications (id, resource_code, resource_version, provider_department_code, consumer_department_code,
       applicant, purpose, requested_fields_json, status, submitted_at, deadline_at, answered_at, answered_by, agreement_id)
     VALUES (?, ?, 1, ?, ?, 'bench', '业务协同', '["id"]', ?, ?, ?, ?, ?, ?)`,
  );
  const agreement = db.prepare(
    `INSERT INTO agreements (id, application_id, resource_code, provider_department_code, consumer_department_code,
       fields_json, purpose, valid_from, valid_until, status, created_at) VALUES (?, ?, ?, ?, ?, '["id"]', '业务协同', ?, ?, 'active', ?)`,
  );
  for (let i = 0; i < size.departments * 4; i++) {
    const r = conditional[Math.floor(rnd() * conditional.length)]!;
    const consumer = (r.dept + 1 + Math.floor(rnd() * (size.departments - 1))) % size.departments;
    const submitted = now - Math.floor(rnd() * size.historyDays * DAY_MS);
    const deadline = submitted + 14 * DAY_MS;
    // The last weeks' applications are partly still pending (some past their deadline); older ones are answered.
    const pending = now - submitted < 40 * DAY_MS && rnd() < 0.35;
    const answered = pending ? null : Math.min(now, submitted + Math.floor(rnd() * 20 * DAY_MS));
    const status = pending ? 'pending' : rnd() < 0.8 ? 'approved' : 'rejected';
    const id = `app-${String(i).padStart(6, '0')}`;
    const agreementId = status === 'approved' ? `agr-${String(i).padStart(6, '0')}` : null;
    app.run(
      id,
      r.code,
      deptCode(r.dept),
      deptCode(consumer),
      status,
      submitted,
      deadline,
      answered,
      answered === null ? null : 'bench',
      agreementId,
    );
    if (agreementId)
      agreement.run(
        agreementId,
        id,
        r.code,
        deptCode(r.dept),
        deptCode(consumer),
        answered,
        answered! + 365 * DAY_MS,
        answered,
      );
  }
}

/** Alerts (open now, resolved over the year) and every task's runs every 6 h over the last 30 days. */
export function alertsAndRuns(db: Db, size: ProvinceSize, now: number, rnd: () => number): void {
  const alert = db.prepare(
    `INSERT INTO alerts (kind, entity_id, department_code, message, severity, state, started_at, last_seen_at,
       ended_at, end_reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const offline = db.prepare("SELECT id, department_code, last_heartbeat_at FROM nodes WHERE status = 'offline'");
  for (const n of offline.all() as { id: string; department_code: string; last_heartbeat_at: number }[])
    alert.run(
      'node_offline',
      n.id,
      n.department_code,
      `node ${n.id} missed its heartbeat`,
      'warning',
      'firing',
      n.last_heartbeat_at + 15_000,
      now,
      null,
      '',
    );
  const overdue = db.prepare(
    "SELECT id, provider_department_code AS d, deadline_at FROM applications WHERE status = 'pending' AND deadline_at <= ?",
  );
  for (const a of overdue.all(now) as { id: string; d: string; deadline_at: number }[])
    alert.run(
      'application_overdue',
      a.id,
      a.d,
      `application ${a.id} overdue`,
      'warning',
      'firing',
      a.deadline_at,
      now,
      null,
      '',
    );
  const kinds = ['node_offline', 'spool_backlog', 'task_failing', 'surge_detected', 'quarantine_growing'];
  for (let i = 0; i < size.nodes * 5; i++) {
    const start = now - Math.floor(rnd() * size.historyDays * DAY_MS);
    const n = Math.floor(rnd() * size.nodes);
    const kind = kinds[i % kinds.length]!;
    alert.run(
      kind,
      `${nodeId(n)}#${i}`,
      deptCode(n % size.departments),
      `${kind} (history)`,
      i % 11 === 0 ? 'critical' : 'warning',
      'resolved',
      start,
      start + HOUR_MS,
      start + 2 * HOUR_MS,
      'cleared',
    );
  }
  const run = db.prepare(
    `INSERT INTO task_runs (run_id, task_id, node_id, started_at, finished_at, status, records, bytes, batches, errors,
       lag_ms, quarantined, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const tasks = db.prepare('SELECT id, node_id FROM tasks ORDER BY id').all() as { id: string; node_id: string }[];
  const step = 6 * HOUR_MS;
  for (const t of tasks)
    for (let at = now - 30 * DAY_MS; at < now; at += step) {
      const failed = rnd() < 0.02;
      const records = failed ? 0 : Math.floor(rnd() * 5000);
      run.run(
        `${t.id}@${at}`,
        t.id,
        t.node_id,
        at - 40_000,
        at,
        failed ? 'failed' : 'ok',
        records,
        records * 210,
        Math.ceil(records / 500),
        failed ? 1 : 0,
        Math.floor(rnd() * 2000),
        0,
        failed ? 'sink refused' : '',
      );
    }
}

/** The province admin and the admin of the first city, with their tokens. */
export function users(db: Db, now: number): { provinceAdminToken: string; cityAdminToken: string } {
  const user = db.prepare(
    `INSERT INTO users (id, name, role, region_code, department_code, token_hash, created_at, created_by)
     VALUES (?, ?, ?, ?, NULL, ?, ?, 'bench')`,
  );
  const provinceAdminToken = newSecret('xut_');
  const cityAdminToken = newSecret('xut_');
  user.run('usr-province', 'province-admin', 'province_admin', null, hashSecret(provinceAdminToken), now);
  user.run('usr-city', 'city-admin', 'city_admin', cityCode(0), hashSecret(cityAdminToken), now);
  return { provinceAdminToken, cityAdminToken };
}
