// The brain's page (智能调度): the clusters of node pairs by traffic shape with their labels, sizes, members and
// policy templates (GET /clusters, /clusters/:id), the policies with their reason and evidence (GET /policies),
// the surges with what was done (GET /surges), the routes between centers with their last change reason, and
// one pair's history against the forecast's 95 % band (GET /traffic). Every read is scoped by central.
import type { ClusterBoard, DashboardClusters, SurgeView } from '../../../src/api/brain.js';
import type { PolicyView } from '../../../src/api/policies.js';
import { get } from '../api.js';
import { el } from '../dom.js';
import { int } from '../format.js';
import { currentLang, t } from '../i18n/index.js';
import type { MessageKey } from '../i18n/zh.js';
import { disposeForecast, forecastPanel, routesPanel, surgesPanel, when, type Pair } from './brain-sections.js';
import type { Page } from './page.js';
import { heading, table } from './topology.js';

/** What the brain's cluster policy template holds (central/src/domain/cluster-policy.ts PolicyTemplate). */
interface Template {
  windows: { days: string | number; startHour: number; endHour: number }[];
  batchRecords: number;
  concurrency: number;
  reason: string;
}

/** Members fetched per cluster, policies and days of surges shown (bounded at a province's scale). */
const MEMBERS_SHOWN = 10;
const POLICIES_SHOWN = 50;
const SURGE_DAYS = 7;

const hh = (h: number): string => `${String(h % 24).padStart(2, '0')}:00`;

function templateText(p: Template): string {
  const windows = p.windows.length
    ? t('templateWindows', { windows: p.windows.map((w) => `${hh(w.startHour)}–${hh(w.endHour)}`).join(', ') })
    : t('templateContinuous');
  return `${windows} · ${t('templateKnobs', { batch: int(p.batchRecords), concurrency: p.concurrency })}`;
}

const pairText = (p: Pair): string => `${p.fromNode} → ${p.toNode}${p.resource ? ` (${p.resource})` : ''}`;

function clustersPanel(run: ClusterBoard | null): HTMLElement {
  const box = el('section', { class: 'panel', 'data-testid': 'clusters' }, heading('clustersTitle'));
  if (!run) return (box.append(el('p', { class: 'empty', 'data-testid': 'no-clusters' }, t('noClusters'))), box);
  box.dataset['pairs'] = String(run.pairs);
  box.append(
    el('p', { class: 'meta' }, t('clustersMeta', { pairs: int(run.pairs), k: run.k, created: when(run.createdAt) })),
    table(
      'cluster-table',
      ['colCluster', 'colSize', 'colSilhouette', 'colTemplate', 'colMembers'],
      run.clusters.map((c) => {
        const template = c.policy as Template;
        const shown = c.members.slice(0, 3).map(pairText);
        const more = c.size - shown.length;
        return {
          id: `cluster-${c.clusterId}`,
          cells: [
            el('span', { title: c.label.rule }, currentLang() === 'zh' ? c.label.zh : c.label.en),
            el('span', { 'data-testid': `cluster-${c.clusterId}-size` }, int(c.size)),
            c.silhouette.toFixed(2),
            el('span', { title: template.reason }, templateText(template)),
            el(
              'span',
              { class: 'members' },
              ...shown.flatMap((s) => [s, el('br')]),
              more > 0 ? t('moreMembers', { count: int(more) }) : '',
            ),
          ],
        };
      }),
    ),
  );
  return box;
}

function evidenceText(p: PolicyView): HTMLElement {
  return el(
    'ul',
    { class: 'evidence' },
    ...p.evidence.map((e) => {
      const value = e.value !== undefined ? `${e.value}${e.unit ? ` ${e.unit}` : ''}` : (e.text ?? '');
      return el('li', {}, `${t(`evidence_${e.kind}` as MessageKey)} · ${e.name}: ${value}`);
    }),
  );
}

function policiesPanel(policies: PolicyView[]): HTMLElement {
  const box = el('section', { class: 'panel', 'data-testid': 'policies' }, heading('policiesTitle'));
  box.dataset['count'] = String(policies.length);
  if (policies.length === 0) return (box.append(el('p', { class: 'empty' }, t('noPolicies'))), box);
  box.append(
    table(
      'policy-table',
      ['colPolicy', 'colKind', 'colState', 'colBy', 'colReason', 'colEvidence'],
      policies.map((p) => ({
        id: `policy-${p.id}`,
        cells: [
          el('span', { class: 'nowrap', title: p.nodeIds.join(', ') }, p.id),
          el('span', { class: 'nowrap' }, t(`kind_${p.kind}` as MessageKey)),
          el('span', { class: 'nowrap' }, t(`state_${p.state}` as MessageKey)),
          el('span', { class: 'nowrap' }, t(`by_${p.generatedBy}` as MessageKey)),
          el('span', { 'data-testid': `policy-${p.id}-reason` }, p.reason),
          evidenceText(p),
        ],
      })),
    ),
  );
  return box;
}

async function view(): Promise<HTMLElement> {
  const since = Date.now() - SURGE_DAYS * 86_400_000;
  const [{ run }, policies, surges, routes] = await Promise.all([
    // A few members each: the table shows three, the forecast offers them (size says how many there are).
    get<DashboardClusters>(`/api/v1/dashboard/clusters?members=${MEMBERS_SHOWN}`),
    get<PolicyView[]>(`/api/v1/policies?limit=${POLICIES_SHOWN}`),
    get<SurgeView[]>(`/api/v1/surges?since=${since}`),
    routesPanel(),
  ]);
  // The pairs a forecast can be shown for: the latest surging ones first, then the clustered ones.
  const pairs = new Map<string, Pair>();
  for (const p of [...[...surges].reverse(), ...(run?.clusters.flatMap((c) => c.members) ?? [])])
    pairs.set(`${p.fromNode}|${p.toNode}`, { fromNode: p.fromNode, toNode: p.toNode, resource: '' });
  return el(
    'div',
    { 'data-testid': 'page-brain' },
    await forecastPanel([...pairs.values()]),
    clustersPanel(run),
    policiesPanel(policies),
    surgesPanel(surges),
    routes,
  );
}

export const brain: Page = {
  id: 'brain',
  title: 'pageBrain',
  render: () => view(),
  dispose: disposeForecast,
};
