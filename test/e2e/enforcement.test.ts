// Agreements are enforced by the agents themselves: a provider whose source requires an agreement
// refuses a task (even one injected behind central's back) that carries none or asks for more fields,
// and a consumer refuses batches not sent under the agreement it holds.
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PERSON_FIELDS } from '../../scripts/synthetic.js';
import { Exchange } from '../helpers/exchange.js';
import { waitFor } from '../helpers/wait-for.js';

const ALLOWED = ['id', 'xm', 'xb', 'gxsj'];
const APPROVED = PERSON_FIELDS.filter((f) => ALLOWED.includes('as' in f ? f.as : f.name));

interface Ack {
  assignmentId: string;
  generation: number;
  outcome: string;
  reason: string;
}

describe('enforcement - agents act on agreements, not only central', () => {
  let x: Exchange;
  const ack = async (nodeId: string, taskId: string, generation = 1): Promise<Ack> =>
    waitFor(
      async () => {
        const d = await x.api.ok<{ acks: Ack[] }>('GET', `/nodes/${nodeId}`);
        return d.acks.find((a) => a.assignmentId === taskId && a.generation === generation);
      },
      20_000,
      100,
      `ack of ${taskId}`,
    );

  beforeAll(async () => {
    x = await Exchange.start({ rows: 2_000 });
  });
  afterAll(async () => {
    await x?.stop();
  });

  it('enforcement - the provider refuses a task without an agreement, and one asking for fields the agreement does not cover', async () => {
    // The provider's binding 'guarded' (the population table) is configured with requireAgreement: true.
    const none = await x.api.ok<{ id: string }>('POST', '/tasks', {
      name: 'no-agreement',
      kind: 'sync',
      nodeId: x.providerId,
      peerNodeId: x.consumerId,
      subscriptionId: 'sub-g',
      binding: 'guarded',
      params: { fields: APPROVED },
    });
    const a1 = await ack(x.providerId, none.id);
    expect(a1.outcome).toBe('rejected');
    expect(a1.reason).toBe('binding guarded shares only under an agreement, and this task carries none');

    const tooMuch = await x.api.ok<{ id: string }>('POST', '/tasks', {
      name: 'too-much',
      kind: 'sync',
      nodeId: x.providerId,
      peerNodeId: x.consumerId,
      subscriptionId: 'sub-g2',
      binding: 'guarded',
      params: { fields: PERSON_FIELDS, agreementId: 'agr-1', allowedFields: ALLOWED },
    });
    const a2 = await ack(x.providerId, tooMuch.id);
    expect(a2.outcome).toBe('rejected');
    expect(a2.reason).toMatch(/^field\(s\) sfzh, csrq, lxdh, xzqh, dz not covered by agreement agr-1$/);
  });

  it('enforcement - a task tampered with in central.db (fields added to an agreed task) is refused and nothing more is sent', async () => {
    const params = { fields: APPROVED, agreementId: 'agr-7', allowedFields: ALLOWED };
    await x.api.ok('POST', '/tasks', {
      name: 'in',
      kind: 'exchange',
      nodeId: x.consumerId,
      peerNodeId: x.providerId,
      subscriptionId: 'sub-ok',
      binding: 'people',
      params,
    });
    const out = await x.api.ok<{ id: string }>('POST', '/tasks', {
      name: 'out',
      kind: 'sync',
      nodeId: x.providerId,
      peerNodeId: x.consumerId,
      subscriptionId: 'sub-ok',
      binding: 'guarded',
      params,
    });
    expect((await ack(x.providerId, out.id)).outcome).toBe('applied');
    await waitFor(() => x.sinkCount() === 2_000, 30_000, 100, 'agreed fields at the sink');
    const cols = (): string[] => {
      const db = new Database(x.sinkPath, { readonly: true });
      const c = (db.prepare('PRAGMA table_info(person)').all() as { name: string }[]).map((r) => r.name);
      db.close();
      return c;
    };
    expect(cols().sort()).toEqual([...ALLOWED].sort()); // only the approved fields exist at the consumer

    // Tamper: widen the fields directly in central's database and bump the versions, as an intruder would.
    const db = new Database(`${x.central.dataDir}/central.db`);
    db.prepare('UPDATE tasks SET params_json = ?, generation = generation + 1 WHERE id = ?').run(
      JSON.stringify({ ...params, fields: PERSON_FIELDS }),
      out.id,
    );
    db.prepare('UPDATE nodes SET assignment_version = assignment_version + 1 WHERE id = ?').run(x.providerId);
    db.close();
    // Central only wakes polls on its own changes; the tampered version is seen at the next poll.
    const a = await waitFor(
      async () => {
        const d = await x.api.ok<{ acks: Ack[] }>('GET', `/nodes/${x.providerId}`);
        return d.acks.find((k) => k.assignmentId === out.id && k.generation === 2);
      },
      60_000,
      200,
      'the tampered generation acknowledged',
    );
    expect(a.outcome).toBe('rejected');
    expect(a.reason).toContain('not covered by agreement agr-7');

    const src = new Database(x.sourcePath);
    src.prepare("UPDATE person SET name = '篡改后', updated_at = ? WHERE id = 5").run(Date.now());
    src.close();
    await new Promise((r) => setTimeout(r, 2_000));
    const dst = new Database(x.sinkPath, { readonly: true });
    expect((dst.prepare('SELECT xm FROM person WHERE id = 5').get() as { xm: string }).xm).not.toBe('篡*后');
    dst.close();
    expect(cols().sort()).toEqual([...ALLOWED].sort());
  });

  it('enforcement - the consumer refuses batches sent under an agreement it does not hold', async () => {
    await x.api.ok('POST', '/tasks', {
      name: 'in2',
      kind: 'exchange',
      nodeId: x.consumerId,
      peerNodeId: x.providerId,
      subscriptionId: 'sub-x',
      binding: 'people2',
      params: { fields: APPROVED, agreementId: 'agr-A', allowedFields: ALLOWED },
    });
    await x.api.ok('POST', '/tasks', {
      name: 'out2',
      kind: 'sync',
      nodeId: x.providerId,
      peerNodeId: x.consumerId,
      subscriptionId: 'sub-x',
      binding: 'guarded',
      params: { fields: APPROVED, agreementId: 'agr-B', allowedFields: ALLOWED },
    });
    const refused = await waitFor(
      async () => {
        const r = await x.api.ok<{ body: { code: string; message: string } }[]>(
          'GET',
          `/reports?node=${x.consumerId}&kind=event&limit=10000`,
        );
        return r.find((e) => e.body.code === 'BATCH_REFUSED');
      },
      30_000,
      200,
      'a refusal event from the consumer',
    );
    expect(refused.body.message).toBe('batch sent under agreement agr-B, this node holds agr-A');
    const db = new Database(x.sink2Path, { readonly: true, fileMustExist: false });
    const n = (() => {
      try {
        return (db.prepare('SELECT count(*) AS n FROM person').get() as { n: number }).n;
      } catch {
        return 0;
      }
    })();
    db.close();
    expect(n).toBe(0);
  });
});
