// A node's move reaches the nodes whose tasks peer with it: their assignment version is bumped in the move's
// transaction and their parked long-polls answer at once with TaskSpec.peer_center = the new center, over
// the real AgentService (grpc-js on port 0) and a real SQLite file. A node with no task toward it is left alone.
import * as grpc from '@grpc/grpc-js';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { buildGrpcServer, listenGrpc } from '../../central/src/grpc/server.js';
import { loadXchgV1, type AgentServiceClient } from '../../proto/index.js';
import { centralDeps, enrollNode, type CentralDeps } from '../helpers/central-deps.js';
import { poll, type NodeIdentity } from '../helpers/probes.js';
import { removeTmpDirs } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait-for.js';

/** How long central holds a long-poll when nothing changes (a move must answer it well before). */
const POLL_HOLD_MS = 20_000;

const running: (() => void)[] = [];
afterEach(() => {
  for (const stop of running.splice(0)) stop();
});
afterAll(removeTmpDirs);

async function start(): Promise<{ d: CentralDeps; client: AgentServiceClient }> {
  const d = centralDeps({ clock: Date.now, urlCheckTimeoutMs: 300 });
  const server = buildGrpcServer({ ...d.grpc, pollTimeoutMs: POLL_HOLD_MS });
  const port = await listenGrpc(server, '127.0.0.1', 0);
  const client = new (loadXchgV1().AgentService)(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  running.push(() => {
    client.close();
    d.assignments.wakeAll();
    server.forceShutdown();
    d.close();
  });
  d.registry.createRegion({ code: '360000', name: '江西省', level: 'province' });
  d.registry.createRegion({ code: '360100', name: '南昌市', level: 'city', parentCode: '360000' });
  await d.centers.create({
    code: 'nanchang',
    name: '南昌 交换中心',
    regionCode: '360100',
    level: 'city',
    natsUrls: ['nats://127.0.0.1:1'],
    check: false,
  });
  return { d, client };
}

const identity = (d: CentralDeps, name: string, dept: string): NodeIdentity => {
  const { node, secret } = enrollNode(d, name, dept);
  return { id: node.id, secret };
};

describe('node move - the peers of a moved node', () => {
  it("node move - the provider's parked poll answers at once with the consumer's new center; an unrelated node is not bumped", async () => {
    const { d, client } = await start();
    const provider = identity(d, 'fe-gat', 'gat');
    const consumer = identity(d, 'fe-mzj', 'mzj');
    const bystander = identity(d, 'fe-tjj', 'tjj');
    d.assignments.createTask({ name: 'pop', kind: 'sync', nodeId: provider.id, peerNodeId: consumer.id, binding: 's' });
    d.assignments.createTask({
      name: 'pop',
      kind: 'exchange',
      nodeId: consumer.id,
      peerNodeId: provider.id,
      binding: 'd',
    });
    const first = await poll(client, provider, 0);
    expect(first.assignments.find((a) => a.task)!.task!.peerCenter).toBe('province');
    const bystanderVersion = d.nodes.get(bystander.id)!.assignmentVersion;

    const parked = poll(client, provider, Number(first.version), POLL_HOLD_MS + 5_000);
    await waitFor(() => d.assignments.parkedPolls === 1, 10_000, 20, 'a parked poll');
    const movedAt = Date.now();
    d.centers.moveNode(consumer.id, 'nanchang');
    const answer = await parked;
    expect(Date.now() - movedAt).toBeLessThan(POLL_HOLD_MS / 4);
    expect(answer.changed).toBe(true);
    expect(Number(answer.version)).toBe(Number(first.version) + 1);
    expect(answer.assignments.find((a) => a.task)!.task!.peerCenter).toBe('nanchang');
    // The provider itself stays where it was; its data plane is unchanged.
    expect(answer.dataPlane).toMatchObject({ homeCenter: 'province' });
    expect(d.nodes.get(bystander.id)!.assignmentVersion).toBe(bystanderVersion);
  });
});
