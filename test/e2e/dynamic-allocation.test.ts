// Dynamic node allocation (动态节点分配), end to end with real processes: one provider department runs three
// agents on the same SQLite source (the task's node and two standbys), one consumer. While rows are inserted
// and updated, the flow is spread over both standbys, one standby is SIGKILLed mid-spread and restarted, and
// the flow is merged back. Then the sink must equal the source value by value (every row, every column, the
// latest version of updated rows), the standbys must have carried batches, and the records the consumer
// committed per source node must add up to exactly the row versions written (none doubled). A batch forged from
// a standby after it handed its shard back is not written.
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { jetstream } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { addressing, packRun, sealBatch } from '../../node-agent/src/exchange/batch.js';
import { PERSON_FIELDS, person, rng, seedPopulation } from '../../scripts/synthetic.js';
import { compareTables } from '../../scripts/verify.js';
import { AgentProcess } from '../helpers/agent.js';
import { Api } from '../helpers/api.js';
import { CentralProcess } from '../helpers/central.js';
import { NatsServer } from '../helpers/nats-server.js';
import { tmpDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait-for.js';

const SEED_ROWS = 4_000;
const DP = {
  batchRecords: 100,
  pollIntervalMs: 100,
  receiptTimeoutMs: 2_000,
  ackWaitMs: 2_000,
  runReportIntervalMs: 500,
  // A batch from a node outside the flow is delivered again for 3 s (every second), then dropped.
  foreignBatchGraceMs: 3_000,
};

interface Allocation {
  state: string;
  epoch: number;
  standbys: { index: number; nodeId: string; state: string }[];
  candidates: string[];
}

/** Writes new row versions into the source: inserts of new ids and updates of rows already delivered. */
class Writer {
  private readonly db: Database.Database;
  private readonly r = rng(7);
  private nextId = 1_000_001;
  private at = 1_800_000_000_000;
  /** Row versions written after the seed (each one is read exactly once: see update()). */
  versions = 0;
  private running = false;
  private loop: Promise<void> | undefined;

  constructor(
    path: string,
    private readonly sinkPath: string,
  ) {
    this.db = new Database(path);
    this.db.pragma('busy_timeout = 5000');
  }

  /** Inserts `n` new rows. */
  insert(n: number): void {
    const ins = this.db.prepare(
      'INSERT INTO person (id, id_no, name, gender, birth_date, phone, district, address, updated_at, deleted) VALUES (@id, @id_no, @name, @gender, @birth_date, @phone, @district, @address, @updated_at, @deleted)',
    );
    this.db.transaction(() => {
      for (let i = 0; i < n; i++) ins.run(person(this.r, this.nextId++, ++this.at));
    })();
    this.versions += n;
  }

  /**
   * Updates up to `n` random rows whose current version the sink already holds: every version written is then
   * read exactly once (none is overwritten before a reader sees it), so the records committed can be counted.
   */
  update(n: number): void {
    const sink = new Database(this.sinkPath, { readonly: true });
    try {
      const get = this.db.prepare('SELECT updated_at FROM person WHERE id = ?');
      const has = sink.prepare('SELECT gxsj FROM person WHERE id = ?');
      const set = this.db.prepare('UPDATE person SET address = ?, updated_at = ? WHERE id = ?');
      for (let i = 0; i < n; i++) {
        const id = 1 + Math.floor(this.r() * SEED_ROWS);
        const cur = (get.get(id) as { updated_at: number }).updated_at;
        const seen = has.get(id) as { gxsj: number } | undefined;
        if (!seen || Number(seen.gxsj) !== Number(cur)) continue;
        set.run(`更新地址 ${++this.at}`, this.at, id);
        this.versions++;
      }
    } finally {
      sink.close();
    }
  }

  /** Writes a few inserts and updates every tick until stop(). */
  start(): void {
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        this.insert(30);
        this.update(15);
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  close(): void {
    this.db.close();
  }
}

/** Batches applied per source node at the sink (its ledger: the last sequence of each node's stream). */
function batchesBySource(sinkPath: string): Map<string, number> {
  const db = new Database(sinkPath, { readonly: true });
  try {
    const out = new Map<string, number>();
    for (const r of db.prepare('SELECT stream, last_seq FROM _xchg_ledger').all() as {
      stream: string;
      last_seq: number;
    }[]) {
      const node = r.stream.split('/')[0]!;
      out.set(node, (out.get(node) ?? 0) + r.last_seq);
    }
    return out;
  } catch {
    return new Map();
  } finally {
    db.close();
  }
}

/** The processes of the test: nats-server, central, three provider agents (gat) and the consumer (mzj). */
class World {
  readonly dir = tmpDir('xchg-spread-');
  readonly sourcePath = join(this.dir, 'population.db');
  readonly sinkPath = join(this.dir, 'received.db');
  nats!: NatsServer;
  central!: CentralProcess;
  api!: Api;
  readonly agents: AgentProcess[] = [];
  /** Node ids: the task's node, the two standbys, the consumer. */
  ids = { p: '', s1: '', s2: '', c: '' };
  syncTaskId = '';

  async start(): Promise<void> {
    seedPopulation(this.sourcePath, SEED_ROWS);
    this.nats = await NatsServer.start();
    this.central = await CentralProcess.start({
      natsUrls: [this.nats.url],
      heartbeatTtlMs: 3_000,
      env: { XCHG_CENTRAL_TRAFFIC_BUCKET_MS: '1000' },
    });
    this.api = new Api(this.central.url, this.central.adminToken);
    await this.api.seedDepartment('gat');
    await this.api.seedDepartment('mzj');
    const source = { type: 'sqlite', path: this.sourcePath, table: 'person', key: 'id', cursor: 'updated_at' };
    for (const name of ['gat-01', 'gat-02', 'gat-03'])
      this.agents.push(await this.agent('gat', name, { sources: { population: { ...source, deleted: 'deleted' } } }));
    const sink = { type: 'sqlite', path: this.sinkPath, table: 'person', key: 'id', synchronous: 'NORMAL' };
    this.agents.push(await this.agent('mzj', 'mzj-01', { sinks: { people: sink } }));
    const [p, s1, s2, c] = await Promise.all(this.agents.map((a) => a.nodeId));
    this.ids = { p: p!, s1: s1!, s2: s2!, c: c! };
    const task = { subscriptionId: 'sub-spread', params: { fields: PERSON_FIELDS } };
    await this.api.ok('POST', '/tasks', {
      ...task,
      name: 'population-in',
      kind: 'exchange',
      nodeId: this.ids.c,
      peerNodeId: this.ids.p,
      binding: 'people',
    });
    this.syncTaskId = (
      await this.api.ok<{ id: string }>('POST', '/tasks', {
        ...task,
        name: 'population-out',
        kind: 'sync',
        nodeId: this.ids.p,
        peerNodeId: this.ids.c,
        binding: 'population',
      })
    ).id;
  }

  private async agent(dept: string, name: string, bindings: Record<string, unknown>): Promise<AgentProcess> {
    return AgentProcess.start({
      central: this.central.grpcAddress,
      token: await this.api.enrollToken(dept, name),
      config: { heartbeatIntervalMs: 500, dataPlane: DP, ...bindings },
    });
  }

  get standby1(): AgentProcess {
    return this.agents[1]!;
  }

  allocation(): Promise<Allocation> {
    return this.api.ok<Allocation>('GET', `/tasks/${this.syncTaskId}/allocation`);
  }

  count(path: string): number {
    try {
      const db = new Database(path, { readonly: true, fileMustExist: true });
      try {
        return (db.prepare('SELECT count(*) AS n FROM person').get() as { n: number }).n;
      } finally {
        db.close();
      }
    } catch {
      return 0;
    }
  }

  compare(): ReturnType<typeof compareTables> {
    return compareTables(
      { path: this.sourcePath, table: 'person', key: 'id', deleted: 'deleted' },
      { path: this.sinkPath, table: 'person' },
      PERSON_FIELDS,
    );
  }

  /** Records the consumer committed from `from` (its traffic reports, 1 s buckets) since `sinceMs`. */
  async committedBy(from: string, sinceMs: number): Promise<number> {
    const q = `from=${from}&to=${this.ids.c}&since=${new Date(sinceMs).toISOString()}&step=5m`;
    return (await this.api.ok<{ totals: { records: number } }>('GET', `/traffic?${q}`)).totals.records;
  }

  async stop(): Promise<void> {
    await Promise.all(this.agents.map((a) => a.stop('SIGKILL')));
    await this.central?.stop();
    await this.nats?.stop();
  }
}

/** Spreads the flow over both standbys and waits until both carry batches. */
async function spreadOverBoth(w: World): Promise<void> {
  await waitFor(async () => (await w.allocation()).candidates.length === 2, 30_000, 100, 'both standbys declared');
  const spread = await w.api.ok<Allocation>('POST', `/tasks/${w.syncTaskId}/spread`, { agents: 2, reason: 'e2e' });
  expect(spread.standbys.map((s) => s.nodeId).sort()).toEqual([w.ids.s1, w.ids.s2].sort());
  await waitFor(async () => (await w.allocation()).state === 'split', 30_000, 100, 'the primary split its cursor');
  const from = (n: string): number => batchesBySource(w.sinkPath).get(n) ?? 0;
  await waitFor(() => from(w.ids.s1) >= 3 && from(w.ids.s2) >= 3, 60_000, 100, 'batches from both standbys');
}

/** SIGKILLs standby 1; restarts it once central saw it offline; waits until it carries its shard on. */
async function killStandby(w: World): Promise<void> {
  const before = batchesBySource(w.sinkPath).get(w.ids.s1) ?? 0;
  await w.standby1.stop('SIGKILL');
  await waitFor(
    async () => (await w.api.ok<{ status: string }>('GET', `/nodes/${w.ids.s1}`)).status === 'offline',
    30_000,
    200,
    'central to see the standby offline',
  );
  await w.standby1.restart();
  const after = (): number => batchesBySource(w.sinkPath).get(w.ids.s1) ?? 0;
  await waitFor(() => after() > before + 2, 60_000, 100, 'the restarted standby to carry its shard on');
}

/**
 * Forges one batch of the flow from `node` (a standby whose shard was handed back) straight into the consumer's
 * data subject: the consumer must not write it (it is redelivered, never applied). Returns the refusal it logged.
 */
async function forgeFrom(
  w: World,
  node: string,
): Promise<{ refused: Record<string, unknown>; dropped: Record<string, unknown> }> {
  const consumer = w.agents[3]!.proc;
  const refused = consumer.waitForLog(
    (l) => l['msg'] === 'batch from a node outside the flow; redelivery later' && String(l['err']).includes(node),
    30_000,
  );
  const dropped = consumer.waitForLog(
    (l) => l['msg'] === 'batch from a node outside the flow dropped' && String(l['err']).includes(node),
    30_000,
  );
  const row = [FORGED_ID, '110101199001011234', '伪造', '男', '1990-01-01', '13800000000', '360102', '伪造地址', 1];
  const columns = PERSON_FIELDS.map((f) => ('as' in f ? f.as : f.name));
  const [packed] = packRun({ columns, rows: [row], ops: ['u'] }, { records: 10, bytes: 1 << 20 });
  const subject = `xchg.n.${w.ids.c}.d.${w.syncTaskId}`;
  const addr = addressing(
    { id: w.syncTaskId, resourceCode: '', subscriptionId: 'sub-spread', peerNodeId: w.ids.c },
    node,
    '',
  );
  const sealed = sealBatch(packed!, addr, subject, 'forged', 1);
  const nc = await connect({ servers: w.nats.url });
  try {
    await jetstream(nc).publish(subject, sealed.envelope, { msgID: sealed.batchId });
  } finally {
    await nc.close();
  }
  return { refused: await refused, dropped: await dropped };
}

const FORGED_ID = 9_999_999;

describe('dynamic allocation - a flow spread over two standby agents', () => {
  const w = new World();
  afterAll(() => w.stop());

  it('dynamic allocation - SIGKILL of a standby mid-spread loses and doubles nothing', async () => {
    const startedAt = Date.now();
    await w.start();
    await waitFor(() => w.count(w.sinkPath) >= SEED_ROWS, 60_000, 100, 'the seed rows at the sink');
    // Rows keep coming (a surge) while the flow is spread, a standby dies and comes back, and it is merged.
    const writer = new Writer(w.sourcePath, w.sinkPath);
    writer.start();
    await spreadOverBoth(w);
    await killStandby(w);
    await w.api.ok('POST', `/tasks/${w.syncTaskId}/unspread`, { reason: 'e2e surge over' });
    await waitFor(async () => (await w.allocation()).state === 'single', 60_000, 100, 'the standbys to hand back');
    const afterMerge = w.count(w.sinkPath);
    await waitFor(() => w.count(w.sinkPath) >= afterMerge + 300, 60_000, 100, 'rows after the merge');
    await writer.stop();
    writer.close();

    // Every row, every column, the latest version of updated rows.
    const result = await waitFor(
      () => {
        const c = w.compare();
        return c.problems.length === 0 && c;
      },
      60_000,
      250,
      'the sink to equal the source',
    ).catch(() => w.compare());
    expect(result.problems).toEqual([]);
    expect(result.rows).toBe(w.count(w.sourcePath));
    expect(w.count(w.sinkPath)).toBe(w.count(w.sourcePath));

    // Records committed per source node: every version written, exactly once, some by each standby.
    const expected = SEED_ROWS + writer.versions;
    const perNode = await waitFor(
      async () => {
        const [p, s1, s2] = await Promise.all([w.ids.p, w.ids.s1, w.ids.s2].map((n) => w.committedBy(n, startedAt)));
        return p! + s1! + s2! >= expected && { p: p!, s1: s1!, s2: s2! };
      },
      60_000,
      500,
      `committed records to reach ${expected}`,
    );
    expect(perNode.s1).toBeGreaterThan(0);
    expect(perNode.s2).toBeGreaterThan(0);
    expect(perNode.p + perNode.s1 + perNode.s2).toBe(expected);
    const batches = batchesBySource(w.sinkPath);
    expect(batches.get(w.ids.s1)).toBeGreaterThan(0);
    expect(batches.get(w.ids.s2)).toBeGreaterThan(0);

    // A standby that handed its shard back is a stranger to the flow again: its batches are not written.
    // It is delivered again for foreignBatchGraceMs (the assignment naming a new holder may come late), then
    // dropped: not redelivered forever.
    const { refused, dropped } = await forgeFrom(w, w.ids.s1);
    expect(String(refused['err'])).toMatch(/neither the provider .* nor a node holding a shard of it/);
    expect(dropped['deliveries']).toBeGreaterThanOrEqual(3);
    const sink = new Database(w.sinkPath, { readonly: true });
    try {
      expect(sink.prepare('SELECT count(*) AS n FROM person WHERE id = ?').get(FORGED_ID)).toEqual({ n: 0 });
    } finally {
      sink.close();
    }
  }, 180_000);
});
