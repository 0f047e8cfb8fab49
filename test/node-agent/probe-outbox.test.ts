// Probe windows in the agent's report outbox (a real spool.db): while central is unreachable they wait like
// every report, but windows older than PROBE_MAX_AGE_MS are dropped when the next window is recorded (at most
// once a minute), so a long outage does not pile them up; reports of other kinds are never touched.
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { PROBE_MAX_AGE_MS, ReportOutbox, type ReportOutboxDeps } from '../../node-agent/src/control/reports.js';
import { SqliteSpool } from '../../node-agent/src/spool/sqlite-spool.js';
import { removeTmpDirs, tmpDir } from '../helpers/tmp.js';

afterAll(removeTmpDirs);

const window = (to: string) => ({ fromCenter: 'province', toCenter: to, linkId: 'lk-1', sent: 3, answered: 3 });

describe('probe outbox - old probe windows are dropped, nothing else', () => {
  it('probe outbox - windows older than 10 min go when the next is recorded; other reports and newer windows stay', () => {
    const spool = new SqliteSpool(join(tmpDir('xchg-probe-outbox-'), 'spool.db'), {
      synchronous: 'NORMAL',
      maxReports: 1_000,
    });
    let now = 1_800_000_000_000;
    // No Report call is made here: the outbox only records (its flush loop is not started).
    const outbox = new ReportOutbox({
      spool,
      batchSize: 100,
      backoff: { initialMs: 100, factor: 2, maxMs: 1_000, jitter: 0 },
      log: pino({ level: 'silent' }),
      clock: () => now,
      keyColumns: () => [],
      onReport: () => undefined,
      onSetAside: () => undefined,
    } as unknown as ReportOutboxDeps);
    try {
      outbox.addProbe(window('old-1'));
      outbox.add('event', { severity: 'info', code: 'X', message: 'kept', taskId: '' });
      now += 30_000;
      outbox.addProbe(window('old-2'));
      now += PROBE_MAX_AGE_MS - 60_000; // old-1 is 9.5 min old, old-2 9 min: both younger than the limit
      outbox.addProbe(window('young'));
      expect(spool.peekReports(100).map((r) => r.body['toCenter'] ?? r.kind)).toEqual([
        'old-1',
        'event',
        'old-2',
        'young',
      ]);
      now += 90_000; // old-1 and old-2 now older than 10 min, young 1.5 min
      outbox.addProbe(window('newest'));
      expect(spool.peekReports(100).map((r) => r.body['toCenter'] ?? r.kind)).toEqual(['event', 'young', 'newest']);
      // Within the minute no search is made (the next one drops what aged meanwhile).
      now += 30_000;
      outbox.addProbe(window('later'));
      expect(spool.reportDepth).toBe(4);
      expect(spool.dropReportsBefore('probe', now + 1)).toBe(3);
      expect(spool.peekReports(100).map((r) => r.kind)).toEqual(['event']);
    } finally {
      spool.close();
    }
  });
});
