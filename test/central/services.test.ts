// Central's services on a real SQLite file with a hand-moved clock: enrollment, authentication, liveness,
// assignments and their long-poll wake-ups, registry rules and idempotent report ingest.
import { describe, it, expect } from 'vitest';
import { ErrorCode } from '../../central/src/errors.js';
import {
  closingCentralDeps,
  enrollNode,
  seedDepartment,
  xchgError,
  type CentralDeps,
} from '../helpers/central-deps.js';

const deps = closingCentralDeps();

const countNodes = (d: CentralDeps): number =>
  (d.store.db.prepare('SELECT count(*) AS n FROM nodes').get() as { n: number }).n;
const enrollInput = (token: string) => ({
  token,
  hostname: 'fe.example',
  agentVersion: '0.1.0',
  labels: { role: 'main' },
});

describe('services enrollment', () => {
  it('enrollment - a good token yields a node with a secret, marks the token used and records an enrolled event', () => {
    const d = deps();
    seedDepartment(d);
    const { token, record } = d.nodes.createToken({ departmentCode: 'gat', nodeName: 'fe-01' });
    expect(token).toMatch(/^xet_/);
    expect(record.expiresAt - record.createdAt).toBe(7 * 24 * 3600_000);
    const { node, secret } = d.nodes.enroll(enrollInput(token));
    expect(secret).toMatch(/^xns_/);
    expect(node).toMatchObject({
      name: 'fe-01',
      departmentCode: 'gat',
      regionCode: '360000',
      hostname: 'fe.example',
      labels: { role: 'main' },
      status: 'offline',
      enabled: true,
    });
    expect(d.nodes.listTokens()).toEqual([
      expect.objectContaining({ id: record.id, usedAt: d.clock(), usedByNodeId: node.id }),
    ]);
    expect(d.nodes.events(node.id).map((e) => [e.kind, e.reason])).toEqual([['enrolled', `token ${record.id}`]]);
    // The secret is stored only as a hash.
    const stored = d.store.db.prepare('SELECT secret_hash FROM nodes WHERE id = ?').get(node.id) as {
      secret_hash: string;
    };
    expect(stored.secret_hash).not.toContain(secret);
    expect(stored.secret_hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('enrollment - a second enroll with the same token is TOKEN_USED and creates no second node', () => {
    const d = deps();
    const { token } = enrollNode(d);
    expect(countNodes(d)).toBe(1);
    const err = xchgError(() => d.nodes.enroll(enrollInput(token)));
    expect(err.code).toBe(ErrorCode.TOKEN_USED);
    expect(err.message).toMatch(/already used/);
    expect(err.field).toBe('token');
    expect(countNodes(d)).toBe(1);
  });

  it('enrollment - a forged token is TOKEN_UNKNOWN and creates nothing', () => {
    const d = deps();
    seedDepartment(d);
    d.nodes.createToken({ departmentCode: 'gat', nodeName: 'fe-01' });
    const err = xchgError(() => d.nodes.enroll(enrollInput('xet_forgedforgedforgedforgedforgedforged')));
    expect(err.code).toBe(ErrorCode.TOKEN_UNKNOWN);
    expect(countNodes(d)).toBe(0);
    expect(d.nodes.listTokens()[0]?.usedAt).toBeNull();
  });

  it('enrollment - an empty token is TOKEN_UNKNOWN naming the missing token', () => {
    const d = deps();
    const err = xchgError(() => d.nodes.enroll(enrollInput('')));
    expect(err.code).toBe(ErrorCode.TOKEN_UNKNOWN);
    expect(err.message).toMatch(/missing/);
  });

  it('enrollment - a token past its TTL is TOKEN_EXPIRED and stays unused', () => {
    const d = deps();
    seedDepartment(d);
    const { token, record } = d.nodes.createToken({ departmentCode: 'gat', nodeName: 'fe-01', ttlMs: 60_000 });
    d.manual!.advance(60_000);
    const err = xchgError(() => d.nodes.enroll(enrollInput(token)));
    expect(err.code).toBe(ErrorCode.TOKEN_EXPIRED);
    expect(countNodes(d)).toBe(0);
    expect(d.store.nodes.token(record.id)?.usedAt).toBeNull();
  });

  it('tokens - a used token cannot be revoked (the node is disabled instead); revoking twice changes nothing', () => {
    const d = deps();
    seedDepartment(d);
    const used = d.nodes.createToken({ departmentCode: 'gat', nodeName: 'fe-01' });
    const { node } = d.nodes.enroll(enrollInput(used.token));
    const err = xchgError(() => d.nodes.revokeToken(used.record.id));
    expect(err.code).toBe(ErrorCode.FAILED_PRECONDITION);
    expect(err.message).toBe(`token ${used.record.id} was already used by node ${node.id}; disable the node instead`);
    expect(d.store.nodes.token(used.record.id)?.revokedAt).toBeNull();
    const fresh = d.nodes.createToken({ departmentCode: 'gat', nodeName: 'fe-02' });
    d.nodes.revokeToken(fresh.record.id);
    const at = d.store.nodes.token(fresh.record.id)?.revokedAt;
    expect(at).not.toBeNull();
    d.nodes.revokeToken(fresh.record.id);
    expect(d.store.nodes.token(fresh.record.id)?.revokedAt).toBe(at);
  });

  it('enrollment - a revoked token is refused and creates no node', () => {
    const d = deps();
    seedDepartment(d);
    const { token, record } = d.nodes.createToken({ departmentCode: 'gat', nodeName: 'fe-01' });
    d.nodes.revokeToken(record.id);
    const err = xchgError(() => d.nodes.enroll(enrollInput(token)));
    expect(err.code).toBe(ErrorCode.TOKEN_USED);
    expect(err.message).toMatch(/revoked/);
    expect(countNodes(d)).toBe(0);
  });

  it('enrollment - a second token for a name that got enrolled meanwhile is ALREADY_EXISTS, not an internal error', () => {
    const d = deps();
    seedDepartment(d);
    const first = d.nodes.createToken({ departmentCode: 'gat', nodeName: 'fe-01' });
    const second = d.nodes.createToken({ departmentCode: 'gat', nodeName: 'fe-01' });
    d.nodes.enroll(enrollInput(first.token));
    const err = xchgError(() => d.nodes.enroll(enrollInput(second.token)));
    expect(err.code).toBe(ErrorCode.ALREADY_EXISTS);
    expect(err.message).toContain('fe-01');
    expect(countNodes(d)).toBe(1);
    expect(d.store.nodes.token(second.record.id)?.usedAt).toBeNull();
  });

  it('enrollment - a token for an unknown department is refused naming departmentCode', () => {
    const d = deps();
    seedDepartment(d);
    const err = xchgError(() => d.nodes.createToken({ departmentCode: 'nope', nodeName: 'fe-01' }));
    expect(err.code).toBe(ErrorCode.INVALID_ARGUMENT);
    expect(err.field).toBe('departmentCode');
    expect(d.nodes.listTokens()).toEqual([]);
  });

  it('enrollment - a token for a node name already enrolled in the department is ALREADY_EXISTS', () => {
    const d = deps();
    enrollNode(d, 'fe-01');
    const err = xchgError(() => d.nodes.createToken({ departmentCode: 'gat', nodeName: 'fe-01' }));
    expect(err.code).toBe(ErrorCode.ALREADY_EXISTS);
    expect(err.field).toBe('nodeName');
    expect(d.nodes.listTokens()).toHaveLength(1);
  });

  it('enrollment - a token TTL under one second is refused naming ttlMs', () => {
    const d = deps();
    seedDepartment(d);
    const err = xchgError(() => d.nodes.createToken({ departmentCode: 'gat', nodeName: 'fe-01', ttlMs: 999 }));
    expect(err.code).toBe(ErrorCode.INVALID_ARGUMENT);
    expect(err.field).toBe('ttlMs');
  });

  it('enrollment - revoking an unknown token is NOT_FOUND', () => {
    const d = deps();
    expect(xchgError(() => d.nodes.revokeToken('tk-nope')).code).toBe(ErrorCode.NOT_FOUND);
  });
});

describe('services authentication', () => {
  it('authentication - the right id and secret return the node', () => {
    const d = deps();
    const { node, secret } = enrollNode(d);
    expect(d.nodes.authenticate(node.id, secret).id).toBe(node.id);
  });

  it('authentication - an unknown node id is NODE_UNKNOWN', () => {
    const d = deps();
    const { secret } = enrollNode(d);
    const err = xchgError(() => d.nodes.authenticate('nd-000000000000', secret));
    expect(err.code).toBe(ErrorCode.NODE_UNKNOWN);
    expect(err.message).toContain('nd-000000000000');
  });

  it('authentication - a wrong or missing secret is UNAUTHENTICATED', () => {
    const d = deps();
    const { node, secret } = enrollNode(d);
    expect(xchgError(() => d.nodes.authenticate(node.id, secret + 'x')).code).toBe(ErrorCode.UNAUTHENTICATED);
    expect(xchgError(() => d.nodes.authenticate(node.id, '')).code).toBe(ErrorCode.UNAUTHENTICATED);
    expect(xchgError(() => d.nodes.authenticate('', secret)).code).toBe(ErrorCode.UNAUTHENTICATED);
  });

  it('authentication - a disabled node is NODE_DISABLED; enabling it again lets it in; both are events', () => {
    const d = deps();
    const { node, secret } = enrollNode(d);
    expect(d.nodes.setEnabled(node.id, false, 'decommissioned').enabled).toBe(false);
    const err = xchgError(() => d.nodes.authenticate(node.id, secret));
    expect(err.code).toBe(ErrorCode.NODE_DISABLED);
    d.nodes.setEnabled(node.id, true, 'back');
    expect(d.nodes.authenticate(node.id, secret).enabled).toBe(true);
    expect(d.nodes.events(node.id).map((e) => [e.kind, e.reason])).toEqual([
      ['enrolled', expect.any(String)],
      ['disabled', 'decommissioned'],
      ['enabled', 'back'],
    ]);
  });

  it('authentication - disabling an already disabled node records no second event', () => {
    const d = deps();
    const { node } = enrollNode(d);
    d.nodes.setEnabled(node.id, false, 'a');
    d.nodes.setEnabled(node.id, false, 'b');
    expect(d.nodes.events(node.id).filter((e) => e.kind === 'disabled')).toHaveLength(1);
  });
});

describe('services liveness', () => {
  it('liveness - a heartbeat brings a node online; sweep marks it offline only after the TTL; both transitions are events', () => {
    const d = deps({ heartbeatTtlMs: 10_000 });
    const { node } = enrollNode(d);
    expect(d.nodes.get(node.id).status).toBe('offline');

    const t1 = d.manual!.advance(1_000);
    d.nodes.heartbeat(node, { spoolDepth: 3 }, '0.2.0');
    const online = d.nodes.get(node.id);
    expect(online).toMatchObject({
      status: 'online',
      lastHeartbeatAt: t1,
      agentVersion: '0.2.0',
      health: { spoolDepth: 3 },
    });
    expect(d.transitions).toEqual([{ nodeId: node.id, from: 'offline', to: 'online', reason: 'heartbeat received' }]);

    d.manual!.advance(10_000); // exactly the TTL: still online
    expect(d.nodes.sweep()).toEqual([]);
    expect(d.nodes.get(node.id).status).toBe('online');

    const t2 = d.manual!.advance(1);
    const swept = d.nodes.sweep();
    expect(swept).toEqual([
      { nodeId: node.id, from: 'online', to: 'offline', reason: 'no heartbeat for 10001 ms (ttl 10000 ms)' },
    ]);
    expect(d.nodes.get(node.id).status).toBe('offline');

    const events = d.nodes.events(node.id);
    expect(events.map((e) => [e.kind, e.at])).toEqual([
      ['enrolled', t1 - 1_000],
      ['online', t1],
      ['offline', t2],
    ]);
    expect(d.transitions.map((t) => t.to)).toEqual(['online', 'offline']);
    // A second sweep finds nothing new.
    expect(d.nodes.sweep()).toEqual([]);
    expect(d.nodes.events(node.id)).toHaveLength(3);
  });

  it('liveness - a heartbeat from an online node records no new event', () => {
    const d = deps();
    const { node } = enrollNode(d);
    d.nodes.heartbeat(node, {}, '0.1.0');
    d.manual!.advance(1_000);
    d.nodes.heartbeat(node, {}, '0.1.0');
    expect(d.nodes.events(node.id).map((e) => e.kind)).toEqual(['enrolled', 'online']);
    expect(d.transitions).toHaveLength(1);
  });

  it('liveness - a node that comes back after going offline goes online again', () => {
    const d = deps({ heartbeatTtlMs: 1_000 });
    const { node } = enrollNode(d);
    d.nodes.heartbeat(node, {}, '0.1.0');
    d.manual!.advance(5_000);
    d.nodes.sweep();
    d.nodes.heartbeat(node, {}, '0.1.0');
    expect(d.nodes.get(node.id).status).toBe('online');
    expect(d.nodes.events(node.id).map((e) => e.kind)).toEqual(['enrolled', 'online', 'offline', 'online']);
  });

  it('liveness - sweep only takes the silent node offline, not one that kept beating', () => {
    const d = deps({ heartbeatTtlMs: 10_000 });
    const a = enrollNode(d, 'fe-a').node;
    const b = enrollNode(d, 'fe-b').node;
    d.nodes.heartbeat(a, {}, '0.1.0');
    d.nodes.heartbeat(b, {}, '0.1.0');
    d.manual!.advance(8_000);
    d.nodes.heartbeat(b, {}, '0.1.0');
    d.manual!.advance(8_000);
    expect(d.nodes.sweep().map((t) => t.nodeId)).toEqual([a.id]);
    expect(d.nodes.list({ status: 'online' }).map((n) => n.id)).toEqual([b.id]);
  });
});

describe('services assignments', () => {
  const taskInput = (nodeId: string) => ({
    name: 'sync people',
    kind: 'sync' as const,
    nodeId,
    binding: 'hr-db',
    params: { table: 'people' },
  });

  it('assignments - create, update and delete each bump the node assignment version; update bumps the generation', () => {
    const d = deps();
    const { node } = enrollNode(d);
    expect(d.assignments.desired(node.id)).toEqual({ version: 1, tasks: [] });

    const t = d.assignments.createTask(taskInput(node.id));
    expect(t).toMatchObject({
      generation: 1,
      enabled: true,
      intervalMs: 0,
      peerNodeId: null,
      params: { table: 'people' },
    });
    expect(d.assignments.desired(node.id)).toEqual({ version: 2, tasks: [t] });

    d.manual!.advance(500);
    const u = d.assignments.updateTask(t.id, { intervalMs: 60_000, enabled: false });
    expect(u).toMatchObject({
      id: t.id,
      generation: 2,
      intervalMs: 60_000,
      enabled: false,
      updatedAt: t.createdAt + 500,
      name: 'sync people',
    });
    expect(d.assignments.desired(node.id).version).toBe(3);

    d.assignments.deleteTask(t.id);
    expect(d.assignments.desired(node.id)).toEqual({ version: 4, tasks: [] });
    expect(d.assignments.listTasks()).toEqual([]);
  });

  it('assignments - a task for an unknown node is refused naming nodeId and bumps nothing', () => {
    const d = deps();
    const { node } = enrollNode(d);
    const err = xchgError(() => d.assignments.createTask(taskInput('nd-ghost')));
    expect(err.code).toBe(ErrorCode.INVALID_ARGUMENT);
    expect(err.field).toBe('nodeId');
    const errPeer = xchgError(() => d.assignments.createTask({ ...taskInput(node.id), peerNodeId: 'nd-ghost' }));
    expect(errPeer.field).toBe('peerNodeId');
    expect(d.assignments.listTasks()).toEqual([]);
    expect(d.assignments.desired(node.id).version).toBe(1);
  });

  it('assignments - params outside their contract (common/src/task-params.ts) are refused naming each field; nothing is written', () => {
    const d = deps();
    const { node } = enrollNode(d);
    const bad = {
      table: 'people',
      fields: [
        { name: 'id', type: 'int' },
        { name: 'p', mask: 'stars' },
      ],
      maxRecordBytes: -1,
    };
    const err = xchgError(() => d.assignments.createTask({ ...taskInput(node.id), params: bad }));
    expect(err.code).toBe(ErrorCode.INVALID_ARGUMENT);
    expect(err.field).toBe('params.fields[0].type');
    expect(err.message).toBe(
      'params.fields[0].type: must be one of string, integer, number, decimal, boolean, date, time, datetime, timestamptz, binary, json; ' +
        'params.fields[1].mask: unknown masking rule (name, idcard, phone, redact, keep:A:B); params.maxRecordBytes: must be >= 0',
    );
    expect(d.assignments.listTasks()).toEqual([]);
    expect(d.assignments.desired(node.id).version).toBe(1);
    const t = d.assignments.createTask({
      ...taskInput(node.id),
      params: { fields: [{ name: 'id', type: 'integer' }], filters: [{ field: 'id', op: 'in', value: [1, 2] }] },
    });
    const upd = xchgError(() =>
      d.assignments.updateTask(t.id, { params: { filters: [{ field: 'id', op: 'in', value: 3 }] } }),
    );
    expect([upd.field, upd.message]).toEqual(['params.filters[0].value', 'params.filters[0].value: "in" needs a list']);
    expect(d.assignments.getTask(t.id)).toEqual(t);
    expect(d.assignments.desired(node.id).version).toBe(2);
  });

  it('assignments - a task for a disabled node is FAILED_PRECONDITION', () => {
    const d = deps();
    const { node } = enrollNode(d);
    d.nodes.setEnabled(node.id, false, 'x');
    expect(xchgError(() => d.assignments.createTask(taskInput(node.id))).code).toBe(ErrorCode.FAILED_PRECONDITION);
    expect(d.assignments.listTasks()).toEqual([]);
  });

  it('assignments - updating or deleting an unknown task is NOT_FOUND', () => {
    const d = deps();
    expect(xchgError(() => d.assignments.updateTask('tsk-nope', { name: 'x' })).code).toBe(ErrorCode.NOT_FOUND);
    expect(xchgError(() => d.assignments.deleteTask('tsk-nope')).code).toBe(ErrorCode.NOT_FOUND);
  });

  it('assignments - a change to one node does not bump another node', () => {
    const d = deps();
    const a = enrollNode(d, 'fe-a').node;
    const b = enrollNode(d, 'fe-b').node;
    d.assignments.createTask(taskInput(a.id));
    expect(d.assignments.desired(a.id).version).toBe(2);
    expect(d.assignments.desired(b.id).version).toBe(1);
  });

  it('assignments - waitForChange returns at once when the known version is stale', async () => {
    const d = deps();
    const { node } = enrollNode(d);
    const t0 = performance.now();
    const set = await d.assignments.waitForChange(node.id, 0, 30_000);
    expect(set.version).toBe(1);
    expect(performance.now() - t0).toBeLessThan(1_000);
    expect(d.assignments.parkedPolls).toBe(0);
  });

  it('assignments - waitForChange wakes promptly when a task is created, well before its timeout', async () => {
    const d = deps();
    const { node } = enrollNode(d);
    const t0 = performance.now();
    const pending = d.assignments.waitForChange(node.id, 1, 10_000);
    await new Promise((r) => setImmediate(r));
    expect(d.assignments.parkedPolls).toBe(1);
    const task = d.assignments.createTask(taskInput(node.id));
    const set = await pending;
    expect(performance.now() - t0).toBeLessThan(2_000);
    expect(set).toEqual({ version: 2, tasks: [task] });
    expect(d.assignments.parkedPolls).toBe(0);
  });

  it('assignments - waitForChange wakes on update and on delete too', async () => {
    const d = deps();
    const { node } = enrollNode(d);
    const task = d.assignments.createTask(taskInput(node.id));
    const onUpdate = d.assignments.waitForChange(node.id, 2, 30_000);
    d.assignments.updateTask(task.id, { name: 'renamed' });
    expect((await onUpdate).tasks.map((t) => t.name)).toEqual(['renamed']);
    const onDelete = d.assignments.waitForChange(node.id, 3, 30_000);
    d.assignments.deleteTask(task.id);
    expect(await onDelete).toEqual({ version: 4, tasks: [] });
  });

  it('assignments - waitForChange resolves with the unchanged set after the timeout when nothing changes', async () => {
    const d = deps();
    const { node } = enrollNode(d);
    const t0 = performance.now();
    const set = await d.assignments.waitForChange(node.id, 1, 150);
    const elapsed = performance.now() - t0;
    expect(set).toEqual({ version: 1, tasks: [] });
    expect(elapsed).toBeGreaterThanOrEqual(140);
    expect(elapsed).toBeLessThan(5_000);
    expect(d.assignments.parkedPolls).toBe(0);
  });

  it('assignments - a change to another node does not wake this node’s poll', async () => {
    const d = deps();
    const a = enrollNode(d, 'fe-a').node;
    const b = enrollNode(d, 'fe-b').node;
    let resolved = false;
    const pending = d.assignments.waitForChange(a.id, 1, 300).then((s) => ((resolved = true), s));
    d.assignments.createTask(taskInput(b.id));
    await new Promise((r) => setImmediate(r));
    expect(resolved).toBe(false);
    expect((await pending).version).toBe(1);
  });

  it('assignments - an aborted signal ends the wait early and wakeAll answers every parked poll', async () => {
    const d = deps();
    const { node } = enrollNode(d);
    const ac = new AbortController();
    const t0 = performance.now();
    const p1 = d.assignments.waitForChange(node.id, 1, 30_000, ac.signal);
    const p2 = d.assignments.waitForChange(node.id, 1, 30_000);
    expect(d.assignments.parkedPolls).toBe(2);
    ac.abort();
    expect((await p1).version).toBe(1);
    expect(d.assignments.parkedPolls).toBe(1);
    d.assignments.wakeAll();
    expect((await p2).version).toBe(1);
    expect(performance.now() - t0).toBeLessThan(2_000);
    expect(d.assignments.parkedPolls).toBe(0);
  });

  it('assignments - acknowledgements keep the latest outcome per assignment', () => {
    const d = deps();
    const { node } = enrollNode(d);
    const t = d.assignments.createTask(taskInput(node.id));
    d.assignments.recordAck(node.id, {
      assignmentId: t.id,
      generation: 1,
      outcome: 'rejected',
      reason: 'no binding hr-db',
    });
    d.assignments.recordAck(node.id, { assignmentId: t.id, generation: 2, outcome: 'applied', reason: '' });
    expect(d.assignments.acks(node.id)).toEqual([
      { nodeId: node.id, assignmentId: t.id, generation: 2, outcome: 'applied', reason: '', at: d.clock() },
    ]);
    expect(
      xchgError(() =>
        d.assignments.recordAck(node.id, { assignmentId: '', generation: 1, outcome: 'applied', reason: '' }),
      ).field,
    ).toBe('assignment_id');
  });
});

describe('services registry', () => {
  it('registry - province, city and county form a tree and the scope of a city holds its counties', () => {
    const d = deps();
    d.registry.createRegion({ code: '360000', name: '江西省', level: 'province' });
    d.registry.createRegion({ code: '360100', name: '南昌市', level: 'city', parentCode: '360000' });
    d.registry.createRegion({ code: '360102', name: '东湖区', level: 'county', parentCode: '360100' });
    expect(d.registry.listRegions().map((r) => [r.code, r.level, r.parentCode])).toEqual([
      ['360000', 'province', null],
      ['360100', 'city', '360000'],
      ['360102', 'county', '360100'],
    ]);
    expect(d.registry.scope('360100').sort()).toEqual(['360100', '360102']);
  });

  it('registry - a duplicate region is ALREADY_EXISTS and a misplaced one names parentCode', () => {
    const d = deps();
    d.registry.createRegion({ code: '360000', name: '江西省', level: 'province' });
    expect(xchgError(() => d.registry.createRegion({ code: '360000', name: 'again', level: 'province' })).code).toBe(
      ErrorCode.ALREADY_EXISTS,
    );
    const err = xchgError(() =>
      d.registry.createRegion({ code: '360102', name: '东湖区', level: 'county', parentCode: '360000' }),
    );
    expect(err.code).toBe(ErrorCode.INVALID_ARGUMENT);
    expect(err.field).toBe('parentCode');
    expect(err.message).toMatch(/must be a city/);
    expect(d.registry.listRegions().map((r) => r.name)).toEqual(['江西省']);
  });

  it('registry - a region with departments cannot be deleted; an empty one can', () => {
    const d = deps();
    seedDepartment(d);
    d.registry.createRegion({ code: '360100', name: '南昌市', level: 'city', parentCode: '360000' });
    expect(xchgError(() => d.registry.deleteRegion('360000')).code).toBe(ErrorCode.FAILED_PRECONDITION);
    d.registry.deleteRegion('360100');
    expect(d.registry.listRegions().map((r) => r.code)).toEqual(['360000']);
    expect(xchgError(() => d.registry.deleteRegion('360100')).code).toBe(ErrorCode.NOT_FOUND);
  });

  it('registry - a department needs a known region and a unique code', () => {
    const d = deps();
    seedDepartment(d);
    const err = xchgError(() => d.registry.createDepartment({ code: 'sft', name: '司法厅', regionCode: '999999' }));
    expect(err.field).toBe('regionCode');
    expect(xchgError(() => d.registry.createDepartment({ code: 'gat', name: 'dup', regionCode: '360000' })).code).toBe(
      ErrorCode.ALREADY_EXISTS,
    );
    expect(d.registry.listDepartments().map((x) => x.code)).toEqual(['gat']);
  });
});

describe('services reports', () => {
  const event = (reportId: string, seq: number) => ({
    reportId,
    seq,
    observedAtMs: 1_000 + seq,
    kind: 'event',
    body: { code: `e${seq}` },
  });

  it('reports - the same report id twice is stored once and counted as a duplicate', () => {
    const d = deps();
    const { node } = enrollNode(d);
    const first = d.reports.ingest(node.id, [event('r1', 1), event('r2', 2)]);
    expect(first).toEqual({ acked: ['r1', 'r2'], freshKinds: ['event', 'event'], duplicates: 0 });
    const again = d.reports.ingest(node.id, [event('r2', 2), event('r3', 3)]);
    expect(again).toEqual({ acked: ['r2', 'r3'], freshKinds: ['event'], duplicates: 1 });
    expect(d.reports.list({ nodeId: node.id }).map((r) => r.reportId)).toEqual(['r3', 'r2', 'r1']);
  });

  it('reports - a duplicate within one call is stored once', () => {
    const d = deps();
    const { node } = enrollNode(d);
    const res = d.reports.ingest(node.id, [event('r1', 1), event('r1', 1)]);
    expect(res.duplicates).toBe(1);
    expect(d.reports.list({})).toHaveLength(1);
  });

  it('reports - a task_run report becomes one task run row, not two when retried', () => {
    const d = deps();
    const { node } = enrollNode(d);
    const run = {
      reportId: 'r-run',
      seq: 1,
      observedAtMs: 5,
      kind: 'task_run',
      body: {
        runId: 'run-1',
        taskId: 'tsk-1',
        startedAtMs: 100,
        finishedAtMs: 200,
        status: 'ok',
        records: 42,
        bytes: 4096,
        batches: 2,
        errors: 0,
        lagMs: 7,
        quarantined: 1,
      },
    };
    d.reports.ingest(node.id, [run]);
    d.reports.ingest(node.id, [run]);
    expect(d.reports.taskRuns({ taskId: 'tsk-1' })).toEqual([
      {
        runId: 'run-1',
        taskId: 'tsk-1',
        nodeId: node.id,
        startedAt: 100,
        finishedAt: 200,
        status: 'ok',
        records: 42,
        bytes: 4096,
        batches: 2,
        errors: 0,
        lagMs: 7,
        quarantined: 1,
        error: '',
      },
    ]);
  });

  it('reports - an empty report id or body is refused naming the item and nothing of the call is stored', () => {
    const d = deps();
    const { node } = enrollNode(d);
    const e1 = xchgError(() => d.reports.ingest(node.id, [event('ok', 1), { ...event('', 2) }]));
    expect(e1.field).toBe('items[1].report_id');
    const e2 = xchgError(() => d.reports.ingest(node.id, [event('ok', 1), { ...event('r2', 2), kind: '' }]));
    expect(e2.field).toBe('items[1].body');
    expect(d.reports.list({})).toEqual([]);
  });

  it("reports - list filters by kind and afterSeq, newest first (one call: by the node's sequence)", () => {
    const d = deps();
    const { node } = enrollNode(d);
    d.reports.ingest(node.id, [event('r3', 3), event('r1', 1), { ...event('m2', 2), kind: 'metrics' }]);
    expect(d.reports.list({ nodeId: node.id }).map((r) => r.seq)).toEqual([3, 2, 1]);
    expect(d.reports.list({ kind: 'event' }).map((r) => r.reportId)).toEqual(['r3', 'r1']);
    expect(d.reports.list({ afterSeq: 1 }).map((r) => r.reportId)).toEqual(['r3', 'm2']);
    expect(d.reports.list({ before: 'm2' }).map((r) => r.reportId)).toEqual(['r1']);
    const unknown = xchgError(() => d.reports.list({ before: 'nope' }));
    expect([unknown.code, unknown.field, unknown.message]).toEqual([
      ErrorCode.INVALID_ARGUMENT,
      'before',
      'before: report "nope" not found',
    ]);
  });
});
