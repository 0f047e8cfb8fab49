// The exchange volume trend: an ECharts line chart from tree-shaken echarts/core imports (only the line
// series, grid, tooltip and legend, canvas renderer), so the bundle carries no chart it does not draw.
import { LineChart } from 'echarts/charts';
import { GridComponent, LegendComponent, TooltipComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import { CanvasRenderer } from 'echarts/renderers';
import type { Trend } from './api.js';
import { formatTime } from './format.js';
import { t } from './i18n/index.js';

echarts.use([LineChart, GridComponent, LegendComponent, TooltipComponent, CanvasRenderer]);

/** The time label of a step in central's time zone: hours and minutes for today's, month and day otherwise. */
function label(ms: number, trend: Trend): string {
  return formatTime(ms, trend.stepMs < 86_400_000 ? 'hourMinute' : 'monthDay');
}

/** Draws (or redraws) the trend into `el`; answers the chart so the caller can dispose of it. */
export function drawTrend(el: HTMLElement, trend: Trend, previous?: echarts.ECharts): echarts.ECharts {
  const chart = previous ?? echarts.init(el, undefined, { renderer: 'canvas' });
  const starts = trend.buckets.map((b) => b.startMs);
  chart.setOption(
    {
      animation: false,
      tooltip: { trigger: 'axis' },
      legend: { top: 0, data: [t('seriesRecords'), t('seriesBatches')], textStyle: { color: '#cfd8e3' } },
      grid: { left: 60, right: 60, top: 40, bottom: 30 },
      xAxis: { type: 'category', data: starts.map((s) => label(s, trend)), boundaryGap: false },
      yAxis: [
        { type: 'value', name: t('seriesRecords'), splitLine: { lineStyle: { color: '#26344a' } } },
        { type: 'value', name: t('seriesBatches'), splitLine: { show: false } },
      ],
      series: [
        {
          name: t('seriesRecords'),
          type: 'line',
          smooth: false,
          showSymbol: false,
          areaStyle: { opacity: 0.15 },
          data: trend.buckets.map((b) => b.records),
        },
        {
          name: t('seriesBatches'),
          type: 'line',
          yAxisIndex: 1,
          smooth: false,
          showSymbol: false,
          data: trend.buckets.map((b) => b.batches),
        },
      ],
    },
    true,
  );
  return chart;
}
