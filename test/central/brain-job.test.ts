// The brain's surge-and-tide job as central's job runner runs it (jobs/brain.ts brainJobs, the 'brain-surges'
// spec's run()), over real services and a temp central.db holding the brain's static policy of an office-hours
// pair: run every 5 minutes of a working day on the services' manual clock, it spreads the pair's sync task before
// the predicted peak (the window opens opens_before_peak minutes early), keeps it spread through the window, merges
// it at the window's end, and logs each change.
import { pino } from 'pino';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { brainJobs } from '../../central/src/jobs/brain.js';
import type { Services } from '../../central/src/services/index.js';
import type { CentralDeps } from '../helpers/central-deps.js';
import { tideAt, tideWorld } from '../helpers/tide-world.js';
import { removeTmpDirs } from '../helpers/tmp.js';

const opened: CentralDeps[] = [];
afterEach(() => opened.splice(0).forEach((d) => d.close()));
afterAll(removeTmpDirs);

const FIVE_MIN = 300_000;
const hhmm = (ms: number): string => new Date(ms + 8 * 3_600_000).toISOString().slice(11, 16); // local UTC+8, as the policy

describe('brain job', () => {
  it('brain job - the surge-and-tide job spreads before the predicted peak and merges after the window', async () => {
    const w = tideWorld();
    opened.push(w.d);
    const logs: { msg: string; component?: string; actions?: { taskId: string; action: string }[] }[] = [];
    const logger = pino({ level: 'info' }, { write: (s: string) => void logs.push(JSON.parse(s) as never) });
    const services = w.d.http as unknown as Pick<Services, 'clusters' | 'surges' | 'tide'>;
    const job = brainJobs(services, logger, { clusterMs: 3_600_000, surgeMs: FIVE_MIN }).find(
      (j) => j.name === 'brain-surges',
    )!;
    expect(job.intervalMs).toBe(FIVE_MIN);

    // The predicted peak: the policy's window opens `opens_before_peak` minutes before it.
    const policy = w.d.policies.get(w.d.store.brain.staticPolicies()[0]!.policyId);
    const leadMin = policy.evidence.find((e) => e.name === 'opens_before_peak')!.value!;
    const window = policy.windows[0]!;
    const peakMs = tideAt('00:00') + (window.startMinute + leadMin) * 60_000;
    const endMs = tideAt('00:00') + window.endMinute * 60_000;

    const states: [string, string][] = [];
    for (let t = tideAt('06:00'); t <= tideAt('21:00'); t += FIVE_MIN) {
      w.d.manual!.nowMs = t;
      await job.run();
      const s = w.shards.plan(w.task)?.state ?? 'none';
      if (states.at(-1)?.[1] !== s) states.push([hhmm(t), s]);
    }
    expect(states).toEqual([
      ['06:00', 'none'],
      ['07:45', 'splitting'],
      ['19:00', 'merging'],
    ]);
    const spreadMs = tideAt(states[1]![0]);
    expect(spreadMs).toBeLessThan(peakMs);
    expect(peakMs - spreadMs).toBe(leadMin * 60_000);
    expect(tideAt(states[2]![0])).toBe(endMs);
    expect(w.shards.plan(w.task)).toMatchObject({ origin: 'tide', standbys: w.standbys.map((nodeId) => ({ nodeId })) });

    // The job logs each change of the allocation once, with the actions in fields.
    const changed = logs.filter((l) => l.msg === 'tide allocation changed');
    expect(changed.map((l) => [l.component, l.actions?.map((a) => [a.taskId, a.action])])).toEqual([
      ['brain', [[w.task, 'spread']]],
      ['brain', [[w.task, 'unspread']]],
    ]);
  });
});
