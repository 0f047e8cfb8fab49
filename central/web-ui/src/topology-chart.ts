// The topology graph: exchange centers on a ring around the province's center (placed by region level), each
// department beside the center its flows leave or reach, center links colored by their probe state, and the
// flows between departments as arrows whose width grows with their records. ECharts graph series only, from
// tree-shaken echarts/core imports, canvas renderer.
import { GraphChart } from 'echarts/charts';
import { LegendComponent, TooltipComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import { CanvasRenderer } from 'echarts/renderers';
import type { Topology } from '../../src/api/dashboard-topology.js';
import { bytes, int } from './format.js';
import { t } from './i18n/index.js';
import type { MessageKey } from './i18n/zh.js';

echarts.use([GraphChart, LegendComponent, TooltipComponent, CanvasRenderer]);

/** Link and route states to colors: healthy green, degraded amber, down red, no route grey. */
export const HEALTH_COLORS: Record<string, string> = {
  up: '#3ccf7a',
  degraded: '#f5b942',
  down: '#ff5d5d',
  none: '#7b8ba1',
};

const healthName = (s: string): string => t(`health_${s}` as MessageKey);

interface Point {
  x: number;
  y: number;
}

interface Layout {
  centers: Map<string, Point>;
  departments: Map<string, Point>;
  /** Department code → the center it is drawn by. */
  home: Map<string, string>;
}

/** The frame the graph is laid out in (landscape, as the panel); two invisible corner nodes pin it. */
const FRAME = { w: 1000, h: 560 };

/**
 * Centers: the province level in the middle, the others on an ellipse around it (the first to the left, then
 * clockwise); departments fanned out beyond the center their flows leave or reach.
 */
function layout(topo: Topology): Layout {
  const mid = { x: FRAME.w / 2, y: FRAME.h / 2 };
  const centers = new Map<string, Point>();
  const middle = topo.centers.filter((c) => c.level === 'province');
  const ring = topo.centers.filter((c) => c.level !== 'province');
  middle.forEach((c, i) => centers.set(c.code, { x: mid.x + (i - (middle.length - 1) / 2) * 150, y: mid.y }));
  ring.forEach((c, i) => {
    const a = Math.PI + (2 * Math.PI * i) / Math.max(1, ring.length);
    centers.set(c.code, { x: mid.x + 290 * Math.cos(a), y: mid.y + 150 * Math.sin(a) });
  });
  // A department sits by the center of its largest flow (where its nodes are homed).
  const home = new Map<string, string>();
  for (const f of topo.flows) {
    if (!home.has(f.fromDepartment)) home.set(f.fromDepartment, f.fromCenter);
    if (!home.has(f.toDepartment)) home.set(f.toDepartment, f.toCenter);
  }
  const byCenter = new Map<string, string[]>();
  for (const [dept, c] of home) byCenter.set(c, [...(byCenter.get(c) ?? []), dept]);
  const departments = new Map<string, Point>();
  for (const [code, depts] of byCenter) {
    const c = centers.get(code) ?? mid;
    const inMiddle = Math.hypot(c.x - mid.x, c.y - mid.y) < 1;
    // Outward from the middle; around the middle center itself, below it (the ring sits left and right).
    const out = inMiddle ? Math.PI / 2 : Math.atan2(c.y - mid.y, c.x - mid.x);
    const spread = Math.min(0.6, (inMiddle ? 2.4 : 1.6) / Math.max(1, depts.length));
    depts.forEach((d, i) => {
      const a = out + (i - (depts.length - 1) / 2) * spread;
      departments.set(d, { x: c.x + 150 * Math.cos(a), y: c.y + 130 * Math.sin(a) });
    });
  }
  return { centers, departments, home };
}

/**
 * Two corners of a box around `points` with FRAME's aspect ratio, centered on them (invisible nodes there keep
 * ECharts from stretching a narrow layout to the panel's width).
 */
function frame(points: readonly Point[]): Point[] {
  const xs = points.map((p) => p.x);
  const ys = points.map((p) => p.y);
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const cx = (x0 + x1) / 2;
  const cy = (y0 + y1) / 2;
  const half = { w: (x1 - x0) / 2 + 90, h: (y1 - y0) / 2 + 50 };
  if (half.w / half.h < FRAME.w / FRAME.h) half.w = (half.h * FRAME.w) / FRAME.h;
  else half.h = (half.w * FRAME.h) / FRAME.w;
  return [
    { x: cx - half.w, y: cy - half.h },
    { x: cx + half.w, y: cy + half.h },
  ];
}

/** Arrow width 1.5..10 px by the flow's share of the largest flow (square root: small flows stay visible). */
const widthOf = (records: number, max: number): number => 1.5 + 8.5 * Math.sqrt(max > 0 ? records / max : 0);

/** The graph's nodes: the frame's pins, the centers, the departments. */
function nodesOf(topo: Topology, lay: Layout) {
  const names = new Map(topo.departments.map((d) => [d.code, d.name]));
  const pins = frame([...lay.centers.values(), ...lay.departments.values()]).map((p, i) => ({
    id: `pin:${i}`,
    name: '',
    ...p,
    symbolSize: 0,
    label: { show: false },
    tooltip: { show: false },
  }));
  return [
    ...pins,
    ...topo.centers.map((c) => ({
      id: `c:${c.code}`,
      name: c.name,
      category: 0,
      symbol: 'roundRect',
      symbolSize: [c.level === 'province' ? 130 : 120, 34],
      ...lay.centers.get(c.code),
      label: { show: true, color: '#0b1426', fontWeight: 'bold' as const },
      tooltip: { formatter: `${t('topoCenter')} ${c.name} (${c.code})` },
    })),
    ...[...lay.departments].map(([code, p]) => ({
      id: `d:${code}`,
      name: names.get(code) ?? code,
      category: 1,
      symbolSize: 16,
      ...p,
      label: { show: true, position: 'bottom' as const, color: '#cfd8e3' },
      tooltip: { formatter: `${t('topoDepartment')} ${names.get(code) ?? code} (${code})` },
    })),
  ];
}

/** The graph's edges: center links by state, departments to their centers (dashed), flows sized by records. */
function edgesOf(topo: Topology, lay: Layout) {
  const maxRecords = Math.max(0, ...topo.flows.map((f) => f.records));
  const links = topo.links.map((l) => ({
    source: `c:${l.a}`,
    target: `c:${l.b}`,
    lineStyle: { color: HEALTH_COLORS[l.state], width: 5, opacity: 0.9, curveness: 0 },
    tooltip: {
      formatter: [
        `${l.a} — ${l.b}: ${healthName(l.state)}${l.reason ? ` (${l.reason})` : ''}`,
        `${t('colLatency')}: ${l.latencyP50Ms ?? '—'} ms`,
        `${t('colLoss')}: ${l.loss === null ? '—' : `${(l.loss * 100).toFixed(1)}%`}`,
        `${t('colLoad')}: ${l.loadBps === null ? '—' : `${bytes(Math.round(l.loadBps))}/s`}`,
      ].join('<br>'),
    },
  }));
  const homes = [...lay.home].map(([code, center]) => ({
    source: `d:${code}`,
    target: `c:${center}`,
    lineStyle: { color: '#44597a', type: 'dashed' as const, width: 1, curveness: 0 },
    tooltip: { show: false },
  }));
  const flows = topo.flows.map((f) => ({
    source: `d:${f.fromDepartment}`,
    target: `d:${f.toDepartment}`,
    symbol: ['none', 'arrow'],
    symbolSize: 10,
    lineStyle: { color: '#4fd1ff', width: widthOf(f.records, maxRecords), opacity: 0.75, curveness: 0.25 },
    tooltip: {
      formatter: [
        `${f.fromDepartment} → ${f.toDepartment}`,
        `${t('colRecords')}: ${int(f.records)} · ${t('colBytes')}: ${bytes(f.bytes)}`,
        `${t('colRoute')}: ${f.route ? f.route.join(' → ') : t('routeNotChosen')}`,
      ].join('<br>'),
    },
  }));
  return [...links, ...homes, ...flows];
}

/** Draws (or redraws) the topology into `el`; answers the chart so the caller can dispose of it. */
export function drawTopology(el: HTMLElement, topo: Topology, previous?: echarts.ECharts): echarts.ECharts {
  const chart = previous ?? echarts.init(el, undefined, { renderer: 'canvas' });
  const lay = layout(topo);
  chart.setOption(
    {
      animation: false,
      tooltip: { trigger: 'item', confine: true },
      legend: { top: 0, data: [t('topoCenter'), t('topoDepartment')], textStyle: { color: '#cfd8e3' } },
      series: [
        {
          type: 'graph',
          layout: 'none',
          roam: true,
          top: 40,
          bottom: 20,
          left: 40,
          right: 40,
          categories: [
            { name: t('topoCenter'), itemStyle: { color: '#4fd1ff' } },
            { name: t('topoDepartment'), itemStyle: { color: '#b48cff' } },
          ],
          data: nodesOf(topo, lay),
          links: edgesOf(topo, lay),
          edgeSymbol: ['none', 'none'],
        },
      ],
    },
    true,
  );
  return chart;
}
