// uPlot options for one stats chart in one theme: axes in the theme's greys, whole-second time
// ticks, and a y axis that never zooms into rounding noise. Built once per chart, not per frame.
import type uPlot from 'uplot';
import type { ThemeName } from '../map/palette.ts';
import type { ChartSpec } from './charts.ts';

export const CHART_HEIGHT = 92;

/** The chart's width for a box `clientWidth` CSS pixels wide. */
export function chartWidth(clientWidth: number): number {
  return Math.max(100, clientWidth);
}

export function chartOptions(spec: ChartSpec, theme: ThemeName, width: number): uPlot.Options {
  const axisColour = theme === 'dark' ? '#8b94a3' : '#5f6877';
  const gridColour = theme === 'dark' ? 'rgba(139,148,163,0.12)' : 'rgba(95,104,119,0.12)';
  const axis = { stroke: axisColour, grid: { stroke: gridColour, width: 1 }, ticks: { show: false }, font: '10px system-ui', size: 34 };
  return {
    width: chartWidth(width),
    height: CHART_HEIGHT,
    legend: { show: false },
    cursor: { show: false },
    padding: [6, 6, 4, 0],
    // Idle charts keep a 0..1 axis rather than zooming into rounding noise.
    scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(max, 1) * 1.1] } },
    axes: [
      {
        ...axis,
        size: 20,
        space: 70,
        // Whole seconds only: sub-second splits would print the same label twice.
        incrs: [1, 2, 5, 10, 15, 30, 60, 120, 300],
        values: (_u, ticks) => ticks.map((t) => new Date(t * 1000).toLocaleTimeString([], { minute: '2-digit', second: '2-digit' })),
      },
      axis,
    ],
    series: [{}, ...spec.series.map((s) => ({ label: s.label, stroke: s.colour, width: 1.5, dash: s.dash, points: { show: false } }))],
  };
}
