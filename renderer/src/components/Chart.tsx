// One stats chart: a uPlot created once per image, spec and theme, updated in place with
// setData at most once per animation frame when its image's series got a sample.
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { useTheme } from '../app/theme.ts';
import type { ThemeName } from '../map/palette.ts';
import { CHART_HEIGHT, chartOptions, chartWidth } from '../stats/chart-options.ts';
import { chartData, latestLine, type ChartSpec } from '../stats/charts.ts';
import { onSample, seriesFor } from '../stats/series.ts';

export function Chart({ imageId, spec }: { imageId: string; spec: ChartSpec }) {
  const box = useRef<HTMLDivElement>(null);
  const latest = useRef<HTMLDivElement>(null);
  const theme = useTheme();
  useEffect(() => mountChart(box.current!, latest.current!, imageId, spec, theme), [imageId, spec, theme]);
  return (
    <div className="chart" data-testid={`chart-${spec.id}`}>
      <div className="chart-title">
        <span>
          {spec.title} <span className="faint">{spec.unit}</span>
        </span>
      </div>
      <div ref={latest} className="chart-latest mono" data-testid={`chart-${spec.id}-latest`}>
        idle
      </div>
      <div ref={box} />
    </div>
  );
}

/** Draws the chart into `el` and keeps it current; returns its disposer. */
function mountChart(el: HTMLDivElement, latest: HTMLDivElement, imageId: string, spec: ChartSpec, theme: ThemeName): () => void {
  const series = seriesFor(imageId);
  const plot = new uPlot(chartOptions(spec, theme, el.clientWidth), chartData(series, spec) as uPlot.AlignedData, el);
  let drawn = -1;
  let frame = 0;
  const redraw = () => {
    frame = 0;
    if (series.version === drawn) return;
    drawn = series.version;
    plot.setData(chartData(series, spec) as uPlot.AlignedData);
    latest.textContent = latestLine(series, spec);
  };
  const unsubscribe = onSample((id) => {
    if (id === imageId && !frame) frame = requestAnimationFrame(redraw);
  });
  const resize = new ResizeObserver(() => plot.setSize({ width: chartWidth(el.clientWidth), height: CHART_HEIGHT }));
  resize.observe(el);
  redraw();
  return () => {
    unsubscribe();
    cancelAnimationFrame(frame);
    resize.disconnect();
    plot.destroy();
  };
}
