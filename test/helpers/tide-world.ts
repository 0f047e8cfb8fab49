// A pair with a tide over real central services (temp central.db, manual clock): provider gat-01 with two standbys
// of its department declaring the binding, consumer sbj-01, one sync task, and the brain's static policy of an
// office-hours cluster (window 08:00-19:00 on working days, standbys warmed 15 min before: the window opens 07:45).
import type { PairCluster } from '../../central/src/domain/clustering.js';
import type { TrafficPair } from '../../central/src/domain/traffic.js';
import { staticPolicyOf } from '../../central/src/services/brain-clusters.js';
import type { ShardService } from '../../central/src/services/shards.js';
import type { TideService } from '../../central/src/services/tide.js';
import { centralDeps, type CentralDeps, type CentralDepsOptions } from './central-deps.js';

/** Local (UTC+8) time `hhmm` on `date` (default Monday 2025-09-01, a working day) as ms. */
export const tideAt = (hhmm: string, date = '2025-09-01'): number => Date.parse(`${date}T${hhmm}:00+08:00`);

/** The tide's reason for the world's window. */
export const TIDE_WHY = 'tide window 07:45-19:00 opens before the predicted peak';

export interface TideWorld {
  d: CentralDeps;
  shards: ShardService;
  tide: TideService;
  pair: TrafficPair;
  task: string;
  /** The standby agents, sorted (the order a spread takes them). */
  standbys: string[];
  /** Moves the manual clock to local `hhmm` (on `date`) and runs the tide step there. */
  tick(hhmm: string, date?: string): ReturnType<TideService['tick']>;
}

/** Builds the world; the caller closes `d` (d.close()). */
export function tideWorld(opts: CentralDepsOptions = {}): TideWorld {
  const d = centralDeps(opts);
  d.registry.createRegion({ code: '360000', name: '江西省', level: 'province' });
  d.registry.createDepartment({ code: 'gat', name: '公安厅', regionCode: '360000' });
  d.registry.createDepartment({ code: 'sbj', name: '社保局', regionCode: '360000' });
  const enroll = (dept: string, name: string, bindings: string[]): string => {
    const { token } = d.nodes.createToken({ departmentCode: dept, nodeName: name });
    const node = d.nodes.enroll({ token, hostname: name, agentVersion: '0.1.0', labels: {} }).node;
    d.nodes.heartbeat(node, { bindings }, '0.1.0');
    return node.id;
  };
  const pair = { fromNode: enroll('gat', 'gat-01', ['db']), toNode: enroll('sbj', 'sbj-01', []), resource: '' };
  const standbys = [enroll('gat', 'gat-02', ['db']), enroll('gat', 'gat-03', ['db'])].sort();
  const task = d.assignments.createTask({
    name: 'sync',
    kind: 'sync',
    nodeId: pair.fromNode,
    peerNodeId: pair.toNode,
    binding: 'db',
    subscriptionId: 'sub-1',
  }).id;
  const cluster: PairCluster = {
    id: 0,
    members: [0],
    profile: {} as PairCluster['profile'], // not read by staticPolicyOf
    label: { base: 'office-hours', en: 'office hours', zh: '办公时段', rule: 'test' },
    policy: {
      windows: [{ days: 'working', startHour: 8, endHour: 19 }],
      batchRecords: 1000,
      concurrency: 2,
      prewarm: { standby: true, leadMinutes: 15, beforeLocalHour: 8 },
      surgeSensitivity: 'high',
      reason: 'office hours',
    },
    silhouette: 0.5,
  };
  const calendar = { holidays: [], workdays: [], utcOffsetMinutes: 480 };
  const policy = d.policies.create(staticPolicyOf(cluster, [task], calendar, pair), 'brain');
  d.store.brain.setStaticPolicy(pair, policy.id, 'run-1');
  const services = d.http as unknown as { shards: ShardService; tide: TideService };
  const tick = (hhmm: string, date?: string): ReturnType<TideService['tick']> => {
    d.manual!.nowMs = tideAt(hhmm, date);
    return services.tide.tick(tideAt(hhmm, date));
  };
  return { d, shards: services.shards, tide: services.tide, pair, task, standbys, tick };
}
