// A central restarted with another routing.probeIntervalMs hands every relay a new RelaySpec generation
// (and bumps its assignment version), so relays apply the new interval; the same interval changes nothing.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { RelayService } from '../../central/src/services/relays.js';
import { centralDeps, enrollNode, type CentralDeps } from '../helpers/central-deps.js';
import { removeTmpDirs } from '../helpers/tmp.js';

const opened: CentralDeps[] = [];
afterEach(() => {
  for (const d of opened.splice(0)) d.close();
});
afterAll(removeTmpDirs);

describe('relay probe interval - a restart with another interval re-hands the relays', () => {
  it('relay probe interval - changed: generation and assignment version go up and the spec carries it; unchanged: nothing moves', () => {
    const d = centralDeps();
    opened.push(d);
    const { node } = enrollNode(d, 'relay-province', 'dsj');
    d.relays.set('province', node.id);
    // The central that designated it (its interval recorded at start, as main.ts does).
    d.relays.syncProbeInterval();
    const before = d.relays.assignmentFor(node.id)!;
    const versionBefore = d.store.nodes.get(node.id)!.assignmentVersion;
    const restart = (probeIntervalMs: number): RelayService =>
      new RelayService(d.store, d.clock, d.audit, d.assignments, { probeIntervalMs });

    const same = restart(before.relay.probeIntervalMs);
    expect(same.syncProbeInterval()).toEqual([]);
    expect(same.assignmentFor(node.id)!.generation).toBe(before.generation);

    const changed = restart(before.relay.probeIntervalMs === 500 ? 700 : 500);
    expect(changed.syncProbeInterval()).toEqual([node.id]);
    const after = changed.assignmentFor(node.id)!;
    expect(after.generation).toBe(before.generation + 1);
    expect(after.relay.probeIntervalMs).not.toBe(before.relay.probeIntervalMs);
    expect(d.store.nodes.get(node.id)!.assignmentVersion).toBeGreaterThan(versionBefore);
    expect(changed.syncProbeInterval(), 'recorded: a second start changes nothing').toEqual([]);
  });
});
