// The dashboard speaks the viewer's language and central's time (issue 12) in real headless Chromium against a
// real central (test/helpers/dashboard-province.ts, with a short heartbeat TTL so that the nodes that heartbeated
// once go offline and node_offline alerts fire). Alerts show their message from the page's catalogs and their
// params, not central's English `message`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert } from '../../central/src/api/alerts.js';
import type { DashboardSummary } from '../../central/src/api/dashboard.js';
import { DashboardProvince, goto } from '../helpers/dashboard-province.js';
import { waitFor } from '../helpers/wait-for.js';

let p: DashboardProvince;
let offline: Alert;

beforeAll(async () => {
  p = await DashboardProvince.start({ heartbeatTtlMs: 2_000 });
  await waitFor(async () => {
    const open = await p.admin.ok<Alert[]>('GET', '/alerts?state=open&kind=node_offline');
    const a = open.find((x) => x.entityId === p.nodeIds['nc-gat']);
    if (a) offline = a;
    return a !== undefined;
  }, 60_000);
}, 180_000);

afterAll(async () => {
  await p?.stop();
});

/** The text of the message cell of alert `id` on the alerts page. */
async function messageCell(page: import('playwright-core').Page, id: number): Promise<string> {
  const cell = page.locator(`[data-testid="alert-row-${id}"] td[data-col="message"]`);
  return ((await cell.textContent()) ?? '').trim();
}

describe('dashboard locale', () => {
  it('a node_offline alert reads in Chinese on the zh alerts page and in English on the en one', async () => {
    expect(offline.params).toMatchObject({ node: 'fe-01', department: 'nc-gat' });
    expect(offline.message).toMatch(/^node fe-01 of nc-gat is offline/);
    const s = await p.signIn(p.cityToken, '#/alerts');
    try {
      const zh = await messageCell(s.page, offline.id);
      expect(zh).toContain('离线');
      expect(zh).toContain('nc-gat');
      expect(zh).toContain('fe-01');
      expect(zh).not.toContain('is offline');
      expect(zh).not.toBe(offline.message);
      await p.shot(s.page, 'alerts-node-offline-zh');
      await s.page.getByTestId('lang-switch').click();
      await s.page
        .locator(`[data-testid="alert-row-${offline.id}"] td[data-col="message"]`, { hasText: 'offline' })
        .waitFor();
      const en = await messageCell(s.page, offline.id);
      expect(en).toMatch(/^Node fe-01 of nc-gat is offline: no heartbeat since /);
      expect(s.errors).toEqual([]);
    } finally {
      await s.close();
    }
  });

  it("a browser in New York shows times in central's zone: an alert's start and the overview's update time", async () => {
    const { timeZone, generatedAt } = await p.admin.ok<DashboardSummary>('GET', '/dashboard/summary');
    const NEW_YORK = 'America/New_York';
    expect(timeZone).not.toBe(NEW_YORK);
    const second = (ms: number, zone: string): string =>
      new Date(ms).toLocaleString('zh-CN', { ...SECOND, hourCycle: 'h23', timeZone: zone });
    const s = await p.signIn(p.cityToken, '#/alerts', NEW_YORK);
    try {
      expect(await s.page.evaluate('Intl.DateTimeFormat().resolvedOptions().timeZone')).toBe(NEW_YORK);
      const started = s.page.locator(`[data-testid="alert-row-${offline.id}"] td[data-col="started"]`);
      const shown = ((await started.textContent()) ?? '').trim();
      expect(shown).toBe(second(offline.startedAt, timeZone));
      expect(shown).not.toBe(second(offline.startedAt, NEW_YORK));
      // The node_offline message's own time (params.sinceAt) is rendered by the same formatter.
      const message = await messageCell(s.page, offline.id);
      expect(message).toContain(second(Number(offline.params?.['sinceAt']), timeZone));
      await goto(s.page, '#/overview');
      const updated = ((await s.page.locator('p.updated').textContent()) ?? '').trim();
      const hourShown = /(\d{2}):\d{2}:\d{2}/.exec(updated)?.[1];
      const hour = (ms: number, zone: string): string =>
        new Date(ms).toLocaleTimeString('en-GB', { hour: '2-digit', hourCycle: 'h23', timeZone: zone });
      // The page fetched its own summary a moment after ours: the hour of either, in central's zone.
      expect([hour(generatedAt, timeZone), hour(Date.now(), timeZone)]).toContain(hourShown);
      expect(hourShown).not.toBe(hour(Date.now(), NEW_YORK));
      expect(s.errors).toEqual([]);
    } finally {
      await s.close();
    }
  });
});

const SECOND: Intl.DateTimeFormatOptions = {
  year: 'numeric',
  month: 'numeric',
  day: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
};
