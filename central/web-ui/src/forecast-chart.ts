// One node pair's history beside the brain's forecast with its 95 % prediction interval (GET /traffic answers
// both): line series only from tree-shaken echarts/core imports; the band is the lower bound stacked with
// (upper − lower) filled.
import { LineChart } from 'echarts/charts';
import { GridComponent, LegendComponent, TooltipComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import { CanvasRenderer } from 'echarts/renderers';
import type { TrafficHistory } from '../../src/api/traffic.js';
import { formatTime } from './format.js';
import { t } from './i18n/index.js';

echarts.use([LineChart, GridComponent, LegendComponent, TooltipComponent, CanvasRenderer]);

/** Draws (or redraws) `h` with its forecast into `el`; answers the chart so the caller can dispose of it. */
export function drawForecast(el: HTMLElement, h: TrafficHistory, previous?: echarts.ECharts): echarts.ECharts {
  const chart = previous ?? echarts.init(el, undefined, { renderer: 'canvas' });
  const f = h.forecast?.buckets ?? [];
  const band = t('seriesBand');
  chart.setOption(
    {
      animation: false,
      tooltip: {
        trigger: 'axis',
        formatter: (params: { dataIndex: number; axisValueLabel: string }[]) => {
          const i = params[0]?.dataIndex ?? 0;
          const fb = f[i];
          return [
            params[0]?.axisValueLabel ?? '',
            `${t('seriesHistory')}: ${h.buckets[i]?.records ?? '—'}`,
            ...(fb ? [`${t('seriesForecast')}: ${fb.expected}`, `${band}: ${fb.lower} – ${fb.upper}`] : []),
          ].join('<br>');
        },
      },
      legend: { top: 0, data: [t('seriesHistory'), t('seriesForecast'), band], textStyle: { color: '#cfd8e3' } },
      grid: { left: 60, right: 30, top: 40, bottom: 30 },
      xAxis: {
        type: 'category',
        data: h.buckets.map((b) => formatTime(b.startMs, 'monthDayMinute')),
        boundaryGap: false,
      },
      yAxis: { type: 'value', splitLine: { lineStyle: { color: '#26344a' } } },
      series: [
        {
          name: band,
          type: 'line',
          stack: 'band',
          symbol: 'none',
          lineStyle: { opacity: 0 },
          itemStyle: { color: 'rgba(245, 185, 66, 0.6)' },
          data: f.map((b) => b.lower),
        },
        {
          name: band,
          type: 'line',
          stack: 'band',
          symbol: 'none',
          lineStyle: { opacity: 0 },
          areaStyle: { color: 'rgba(245, 185, 66, 0.3)' },
          itemStyle: { color: 'rgba(245, 185, 66, 0.6)' },
          data: f.map((b) => Math.max(0, b.upper - b.lower)),
        },
        {
          name: t('seriesForecast'),
          type: 'line',
          symbol: 'none',
          itemStyle: { color: '#f5b942' },
          lineStyle: { type: 'dashed' },
          data: f.map((b) => b.expected),
        },
        {
          name: t('seriesHistory'),
          type: 'line',
          symbol: 'none',
          itemStyle: { color: '#4fd1ff' },
          data: h.buckets.map((b) => b.records),
        },
      ],
    },
    true,
  );
  return chart;
}
