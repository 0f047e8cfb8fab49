// Dynamic node allocation (动态节点分配), end to end with real processes: one provider department runs three
// agents on the same SQLite source (the task's node and two standbys), one consumer. While rows are inserted
// and updated, the flow is spread over both standbys, one standby is SIGKILLed mid-spread and restarted, and
// the flow is merged back. Then the sink must equal the source value by value (every row, every column, the
// latest version of updated rows), the standbys must have carried batches, and the records the consumer
// committed per source node must add up to exactly the row versions written (none doubled).
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
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

describe('dynamic allocation - a flow spread over two standby agents', () => {
  const dir = tmpDir('xchg-spread-');
  const sourcePath = join(dir, 'population.db');
  const sinkPath = join(dir, 'received.db');
  let nats: NatsServer;
  let central: CentralProcess;
  const agents: AgentProcess[] = [];
  afterAll(async () => {
    await Promise.all(agents.map((a) => a.stop('SIGKILL')));
    await central?.stop();
    await nats?.stop();
  });

  it('dynamic allocation - SIGKILL of a standby mid-spread loses and doubles nothing', async () => {
    const startedAt = Date.now();
    seedPopulation(sourcePath, SEED_ROWS);
    nats = await NatsServer.start();
    central = await CentralProcess.start({
      natsUrls: [nats.url],
      heartbeatTtlMs: 3_000,
      env: { XCHG_CENTRAL_TRAFFIC_BUCKET_MS: '1000' },
    });
    const api = new Api(central.url, central.adminToken);
    await api.seedDepartment('gat');
    await api.seedDepartment('mzj');
    const source = {
      type: 'sqlite',
      path: sourcePath,
      table: 'person',
      key: 'id',
      cursor: 'updated_at',
      deleted: 'deleted',
    };
    const provider = async (name: string): Promise<AgentProcess> =>
      AgentProcess.start({
        central: central.grpcAddress,
        token: await api.enrollToken('gat', name),
        config: { heartbeatIntervalMs: 500, dataPlane: DP, sources: { population: source } },
      });
    const [p, s1, s2] = [await provider('gat-01'), await provider('gat-02'), await provider('gat-03')];
    const consumer = await AgentProcess.start({
      central: central.grpcAddress,
      token: await api.enrollToken('mzj', 'mzj-01'),
      config: {
        heartbeatIntervalMs: 500,
        dataPlane: DP,
        sinks: { people: { type: 'sqlite', path: sinkPath, table: 'person', key: 'id', synchronous: 'NORMAL' } },
      },
    });
    agents.push(p, s1, s2, consumer);
    const [pId, s1Id, s2Id, cId] = await Promise.all([p.nodeId, s1.nodeId, s2.nodeId, consumer.nodeId]);

    const params = { fields: PERSON_FIELDS };
    await api.ok('POST', '/tasks', {
      name: 'population-in',
      kind: 'exchange',
      nodeId: cId,
      peerNodeId: pId,
      subscriptionId: 'sub-spread',
      binding: 'people',
      params,
    });
    const sync = await api.ok<{ id: string }>('POST', '/tasks', {
      name: 'population-out',
      kind: 'sync',
      nodeId: pId,
      peerNodeId: cId,
      subscriptionId: 'sub-spread',
      binding: 'population',
      params,
    });
    const sinkCount = (): number => {
      try {
        const db = new Database(sinkPath, { readonly: true, fileMustExist: true });
        try {
          return (db.prepare('SELECT count(*) AS n FROM person').get() as { n: number }).n;
        } finally {
          db.close();
        }
      } catch {
        return 0;
      }
    };
    await waitFor(() => sinkCount() >= SEED_ROWS, 60_000, 100, 'the seed rows at the sink');

    // Rows keep coming (a surge): spread over both standbys (both declared the binding in their heartbeats).
    const writer = new Writer(sourcePath, sinkPath);
    writer.start();
    const allocation = (): Promise<Allocation> => api.ok<Allocation>('GET', `/tasks/${sync.id}/allocation`);
    await waitFor(async () => (await allocation()).candidates.length === 2, 30_000, 100, 'both standbys declared');
    const spread = await api.ok<Allocation>('POST', `/tasks/${sync.id}/spread`, { agents: 2, reason: 'e2e surge' });
    expect(spread.standbys.map((s) => s.nodeId).sort()).toEqual([s1Id, s2Id].sort());
    await waitFor(async () => (await allocation()).state === 'split', 30_000, 100, 'the primary split its cursor');
    // Both standbys carry batches of the flow.
    await waitFor(
      () => (batchesBySource(sinkPath).get(s1Id) ?? 0) >= 3 && (batchesBySource(sinkPath).get(s2Id) ?? 0) >= 3,
      60_000,
      100,
      'batches from both standbys at the sink',
    );

    // SIGKILL one standby mid-spread; it comes back once central has seen it go offline, and goes on.
    const beforeKill = batchesBySource(sinkPath).get(s1Id) ?? 0;
    await s1.stop('SIGKILL');
    await waitFor(
      async () => (await api.ok<{ status: string }>('GET', `/nodes/${s1Id}`)).status === 'offline',
      30_000,
      200,
      'central to see the standby offline',
    );
    await s1.restart();
    await waitFor(
      () => (batchesBySource(sinkPath).get(s1Id) ?? 0) > beforeKill + 2,
      60_000,
      100,
      'the restarted standby to carry its shard on',
    );

    // Merge back, keep writing a while, then stop and let the flow settle.
    await api.ok('POST', `/tasks/${sync.id}/unspread`, { reason: 'e2e surge over' });
    await waitFor(async () => (await allocation()).state === 'single', 60_000, 100, 'the standbys to hand back');
    const afterMerge = sinkCount();
    await waitFor(() => sinkCount() >= afterMerge + 300, 60_000, 100, 'rows after the merge');
    await writer.stop();
    writer.close();

    const compare = (): ReturnType<typeof compareTables> =>
      compareTables(
        { path: sourcePath, table: 'person', key: 'id', deleted: 'deleted' },
        { path: sinkPath, table: 'person' },
        PERSON_FIELDS,
      );
    const result = await waitFor(
      () => {
        const c = compare();
        return c.problems.length === 0 && c;
      },
      60_000,
      250,
      'the sink to equal the source',
    ).catch(() => compare());
    expect(result.problems).toEqual([]);
    const sourceRows = (() => {
      const db = new Database(sourcePath, { readonly: true });
      try {
        return (db.prepare('SELECT count(*) AS n FROM person').get() as { n: number }).n;
      } finally {
        db.close();
      }
    })();
    expect(result.rows).toBe(sourceRows);
    expect(sinkCount()).toBe(sourceRows);

    // Records committed per source node (the consumer's traffic reports): every version written, exactly once.
    const expected = SEED_ROWS + writer.versions;
    const committedBy = async (from: string): Promise<number> =>
      (
        await api.ok<{ totals: { records: number } }>(
          'GET',
          `/traffic?from=${from}&to=${cId}&since=${new Date(startedAt - 60_000).toISOString()}&step=5m`,
        )
      ).totals.records;
    const perNode = await waitFor(
      async () => {
        const n = { p: await committedBy(pId), s1: await committedBy(s1Id), s2: await committedBy(s2Id) };
        return n.p + n.s1 + n.s2 >= expected && n;
      },
      60_000,
      500,
      `committed records to reach ${expected}`,
    );
    expect(perNode.s1).toBeGreaterThan(0);
    expect(perNode.s2).toBeGreaterThan(0);
    expect(perNode.p + perNode.s1 + perNode.s2).toBe(expected);
    const batches = batchesBySource(sinkPath);
    expect(batches.get(s1Id)).toBeGreaterThan(0);
    expect(batches.get(s2Id)).toBeGreaterThan(0);
  }, 180_000);
});
