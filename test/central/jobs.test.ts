// Central's job runner (central/src/jobs/runner.ts) with real timers and a real pino logger writing to
// memory: failures are logged by job name and do not end the schedule, runs never overlap, stop() waits.
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { JobRunner } from '../../central/src/jobs/runner.js';
import { waitFor } from '../helpers/wait-for.js';

function memoryLogger(): { logger: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines };
}

const runners: JobRunner[] = [];
afterEach(async () => {
  await Promise.all(runners.splice(0).map((r) => r.stop()));
});

function runner(logger: pino.Logger): JobRunner {
  const r = new JobRunner(logger);
  runners.push(r);
  return r;
}

describe('jobs', () => {
  it('jobs - a failing job is logged with its name and keeps its schedule; its neighbour is unaffected', async () => {
    const { logger, lines } = memoryLogger();
    let failing = 0;
    let healthy = 0;
    const r = runner(logger)
      .add({
        name: 'bad-sweep',
        intervalMs: 20,
        run: () => {
          failing++;
          throw new Error(`boom ${failing}`);
        },
      })
      .add({ name: 'async-bad', intervalMs: 20, run: async () => Promise.reject(new Error('async boom')) })
      .add({ name: 'good-sweep', intervalMs: 20, run: () => void healthy++ });
    r.start();
    await waitFor(() => failing >= 3 && healthy >= 3, 5_000, 10, 'three runs of each');
    const failures = lines.filter((l) => l['msg'] === 'job failed');
    expect(
      failures
        .filter((l) => l['job'] === 'bad-sweep')
        .map((l) => (l['err'] as { message: string }).message)
        .slice(0, 3),
    ).toEqual(['boom 1', 'boom 2', 'boom 3']);
    expect(
      failures.some((l) => l['job'] === 'async-bad' && (l['err'] as { message: string }).message === 'async boom'),
    ).toBe(true);
    expect(failures.every((l) => l['level'] === 50)).toBe(true);
    expect(failures.some((l) => l['job'] === 'good-sweep')).toBe(false);
  });

  it('jobs - runAtStart runs once synchronously in start(), the others wait for their first interval', async () => {
    const { logger } = memoryLogger();
    const runs: string[] = [];
    const r = runner(logger)
      .add({ name: 'now', intervalMs: 60_000, runAtStart: true, run: () => void runs.push('now') })
      .add({ name: 'later', intervalMs: 60_000, run: () => void runs.push('later') });
    r.start();
    expect(runs).toEqual(['now']);
  });

  it('jobs - a run slower than its interval is never overlapped: the ticks meanwhile are skipped', async () => {
    const { logger, lines } = memoryLogger();
    let active = 0;
    let maxActive = 0;
    let runs = 0;
    const r = runner(logger).add({
      name: 'slow',
      intervalMs: 10,
      run: async () => {
        active++;
        maxActive = Math.max(maxActive, active);
        runs++;
        await new Promise((res) => setTimeout(res, 80));
        active--;
      },
    });
    r.start();
    await waitFor(() => runs >= 3, 5_000, 10, 'three runs');
    expect(maxActive).toBe(1);
    expect(
      lines.filter((l) => l['msg'] === 'job still running; tick skipped' && l['job'] === 'slow').length,
    ).toBeGreaterThan(3);
  });

  it('jobs - stop() waits for the run in progress and no run starts afterwards', async () => {
    const { logger } = memoryLogger();
    let release!: () => void;
    let started = 0;
    let finished = 0;
    const r = runner(logger).add({
      name: 'long',
      intervalMs: 10,
      run: async () => {
        started++;
        await new Promise<void>((res) => (release = res));
        finished++;
      },
    });
    r.start();
    await waitFor(() => started === 1, 5_000, 5, 'the first run');
    expect(r.running()).toEqual(['long']);
    let stopped = false;
    const stopping = r.stop().then(() => (stopped = true));
    await new Promise((res) => setTimeout(res, 50));
    expect(stopped).toBe(false); // still waiting for the run
    release();
    await stopping;
    expect([started, finished, r.running()]).toEqual([1, 1, []]);
    await new Promise((res) => setTimeout(res, 50));
    expect(started).toBe(1);
    expect(() => r.add({ name: 'late', intervalMs: 10, run: () => undefined })).toThrow(/stopped/);
  });

  it('jobs - names are unique and intervals positive', () => {
    const r = runner(memoryLogger().logger).add({ name: 'a', intervalMs: 10, run: () => undefined });
    expect(() => r.add({ name: 'a', intervalMs: 10, run: () => undefined })).toThrow(/exists/);
    expect(() => r.add({ name: 'b', intervalMs: 0, run: () => undefined })).toThrow(/positive/);
  });
});
