// The brain's tables on a real SQLite file: a clustering run with its clusters and members (older runs pruned),
// surges upserted by (pair, origin, start) and filtered by overlap, and the static policy kept per pair.
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Store } from '../../central/src/store/index.js';
import { removeTmpDirs, tmpDir } from '../helpers/tmp.js';

afterAll(removeTmpDirs);
const pair = { fromNode: 'n-a', toNode: 'n-b', resource: 'r1' };

describe('brain store', () => {
  it('brain store - keeps the newest runs with their clusters and members, older ones pruned', () => {
    const store = Store.open(join(tmpDir('xchg-brain-'), 'central.db'));
    for (let i = 1; i <= 3; i++)
      store.brain.putRun(
        {
          runId: `run-${i}`,
          createdAt: i,
          sinceMs: 0,
          untilMs: 10,
          bucketMs: 300_000,
          pairs: 1,
          k: 1,
          criterion: { i },
        },
        [{ runId: `run-${i}`, clusterId: 0, size: 1, label: { en: 'x' }, profile: {}, policy: {}, silhouette: 0.5 }],
        [{ runId: `run-${i}`, ...pair, clusterId: 0, features: { v: i } }],
        2,
      );
    expect(store.brain.latestRun()).toMatchObject({ runId: 'run-3', criterion: { i: 3 } });
    expect(store.brain.clusters('run-1')).toEqual([]);
    expect(store.brain.members('run-1')).toEqual([]);
    expect(store.brain.clusters('run-2')).toHaveLength(1);
    expect(store.brain.members('run-3', 0)).toEqual([{ runId: 'run-3', ...pair, clusterId: 0, features: { v: 3 } }]);
    store.close();
  });

  it('brain store - a surge is updated in place by (pair, origin, start) and found by overlap', () => {
    const store = Store.open(join(tmpDir('xchg-brain-'), 'central.db'));
    const s = {
      surgeId: 'sg-1',
      ...pair,
      origin: 'live' as const,
      startMs: 1000,
      endMs: null,
      detectedAtMs: 1300,
      peak: 50,
      expected: 10,
      evidence: { z: 9 },
      actions: [],
    };
    store.brain.upsertSurge(s);
    store.brain.upsertSurge({ ...s, surgeId: 'sg-other', endMs: 2000, peak: 80, actions: [{ policy: 'pol-1' }] });
    expect(store.brain.surges()).toEqual([{ ...s, endMs: 2000, peak: 80, actions: [{ policy: 'pol-1' }] }]);
    expect(store.brain.surges({ sinceMs: 2000 })).toEqual([]);
    expect(store.brain.surges({ sinceMs: 1999, untilMs: 1001 })).toHaveLength(1);
    expect(store.brain.surges({ untilMs: 1000 })).toEqual([]);
    expect(store.brain.surges({ openOnly: true })).toEqual([]);
    store.brain.upsertSurge({ ...s, surgeId: 'sg-2', origin: 'import', startMs: 5000 });
    expect(store.brain.surges({ openOnly: true }).map((x) => x.surgeId)).toEqual(['sg-2']);
    expect(store.brain.deleteSurges(pair, 'import', 0, 10_000)).toBe(1);
    expect(store.brain.surges().map((x) => x.surgeId)).toEqual(['sg-1']);
    store.close();
  });

  it('brain store - one static policy per pair, replaced by a later run', () => {
    const store = Store.open(join(tmpDir('xchg-brain-'), 'central.db'));
    expect(store.brain.staticPolicy(pair)).toBeUndefined();
    store.brain.setStaticPolicy(pair, 'pol-1', 'run-1');
    store.brain.setStaticPolicy(pair, 'pol-2', 'run-2');
    expect(store.brain.staticPolicy(pair)).toEqual({ policyId: 'pol-2', runId: 'run-2' });
    expect(store.brain.staticPolicy({ ...pair, resource: '' })).toBeUndefined();
    store.close();
  });
});
