// Live stats: four uPlot charts created once per image and updated in place with setData at
// most once per animation frame, plus per-client counters.
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { ImageSummary } from '../../../shared/ipc.ts';
import { useTheme } from '../app/theme.ts';
import { formatBytes } from '../format/bytes.ts';
import { CHARTS, chartData, latestLine, type ChartSpec } from '../stats/charts.ts';
import { onSample, seriesFor } from '../stats/series.ts';
import { useApp } from '../store/store.ts';

export function StatsPanel({ image }: { image: ImageSummary }) {
  const clients = useApp((s) => s.clientStats[image.id]);
  return (
    <div className="section" aria-label="Statistics" data-testid="stats-panel">
      <h2>Live stats</h2>
      {CHARTS.map((spec) => (
        <Chart key={`${image.id}:${spec.id}`} imageId={image.id} spec={spec} />
      ))}
      <h2 style={{ marginTop: 10 }}>Per client</h2>
      {!clients || clients.length === 0 ? (
        <div className="faint">No client traffic yet.</div>
      ) : (
        <table className="grid" data-testid="client-stats">
          <thead>
            <tr>
              <th>Client</th>
              <th className="num">ops/s</th>
              <th className="num">Reqs</th>
              <th className="num">Read</th>
              <th className="num">Written</th>
            </tr>
          </thead>
          <tbody>
            {clients.map((c) => (
              <tr key={c.id}>
                <td className="mono">{c.remote}</td>
                <td className="num">{c.ops.toFixed(1)}</td>
                <td className="num" data-testid="client-requests">{c.requests}</td>
                <td className="num">{formatBytes(c.bytesRead)}</td>
                <td className="num">{formatBytes(c.bytesWritten)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

function Chart({ imageId, spec }: { imageId: string; spec: ChartSpec }) {
  const box = useRef<HTMLDivElement>(null);
  const latest = useRef<HTMLDivElement>(null);
  const theme = useTheme();

  useEffect(() => {
    const el = box.current!;
    const series = seriesFor(imageId);
    const axisColour = theme === 'dark' ? '#8b94a3' : '#5f6877';
    const gridColour = theme === 'dark' ? 'rgba(139,148,163,0.12)' : 'rgba(95,104,119,0.12)';
    const axis = { stroke: axisColour, grid: { stroke: gridColour, width: 1 }, ticks: { show: false }, font: '10px system-ui', size: 34 };
    const plot = new uPlot(
      {
        width: Math.max(100, el.clientWidth),
        height: 92,
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
      },
      chartData(series, spec) as uPlot.AlignedData,
      el,
    );
    let drawn = -1;
    let frame = 0;
    const redraw = () => {
      frame = 0;
      if (series.version === drawn) return;
      drawn = series.version;
      plot.setData(chartData(series, spec) as uPlot.AlignedData);
      if (latest.current) latest.current.textContent = latestLine(series, spec);
    };
    const unsubscribe = onSample((id) => {
      if (id === imageId && !frame) frame = requestAnimationFrame(redraw);
    });
    const resize = new ResizeObserver(() => plot.setSize({ width: Math.max(100, el.clientWidth), height: 92 }));
    resize.observe(el);
    redraw();
    return () => {
      unsubscribe();
      cancelAnimationFrame(frame);
      resize.disconnect();
      plot.destroy();
    };
  }, [imageId, spec, theme]);

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
