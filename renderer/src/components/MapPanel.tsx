// The allocation map: header with the visible range and zoom controls, the whole-disk
// overview, the detail map, an offset axis, the legend and the hover readout.
import type { ImageSummary } from '../../../shared/ipc.ts';
import { exportMap, exportPng } from '../app/actions.ts';
import { formatBytes, formatHex, formatPercent } from '../format/bytes.ts';
import { bytesPerPixel } from '../map/viewport.ts';
import { useApp } from '../store/store.ts';
import { HoverReadout } from './HoverReadout.tsx';
import { Legend } from './Legend.tsx';
import { MapCanvas } from './MapCanvas.tsx';

/** The detail map's width in device pixels, for the bytes-per-pixel figure. */
function deviceWidth(): number {
  return Number(document.querySelector<HTMLCanvasElement>('[data-testid="map-detail"]')?.width ?? 1000);
}

export function MapPanel({ image }: { image: ImageSummary }) {
  const view = useApp((s) => s.views[image.id]) ?? { start: 0, end: image.size };
  const zoom = useApp((s) => s.zoom);
  const reset = useApp((s) => s.resetView);
  const span = view.end - view.start;
  const whole = view.start === 0 && view.end === image.size;
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => view.start + f * span);
  return (
    <section className="card" aria-label="Allocation map">
      <div className="map-head">
        <h2 style={{ margin: 0 }}>Allocation map</h2>
        <span className="range" data-testid="view-range">
          {formatHex(view.start)}–{formatHex(view.end)} · {formatBytes(span)}
          {whole ? '' : ` · ${(image.size / span).toFixed(image.size / span < 10 ? 1 : 0)}×`}
          {' · '}
          {formatBytes(Math.max(1, Math.round(bytesPerPixel(view, deviceWidth()))))}/px
        </span>
        {!image.scan.complete && !image.scan.error && (
          <span className="pill" data-testid="map-scanning" title="Regions not scanned yet are hatched">
            scanning {formatPercent(image.scan.done, image.scan.total)}
          </span>
        )}
        <button className="btn icon" title="Zoom in (+)" onClick={() => zoom(image.id, 0.5, 0.5)} data-testid="zoom-in">
          +
        </button>
        <button className="btn icon" title="Zoom out (−)" onClick={() => zoom(image.id, 0.5, 2)} data-testid="zoom-out">
          −
        </button>
        <button className="btn small" title="Whole disk (0)" onClick={() => reset(image.id)} disabled={whole}>
          Whole disk
        </button>
        <ExportMenu image={image} />
      </div>
      <MapCanvas image={image} mode="overview" />
      <MapCanvas image={image} mode="detail" />
      <div className="axis" aria-hidden>
        {ticks.map((t, k) => (
          <span key={k}>{formatBytes(Math.round(t))}</span>
        ))}
      </div>
      <HoverReadout image={image} />
      <Legend image={image} />
    </section>
  );
}

function ExportMenu({ image }: { image: ImageSummary }) {
  return (
    <select
      className="btn small"
      value=""
      aria-label="Export map"
      data-testid="export-map"
      onChange={(e) => {
        const v = e.target.value;
        e.target.value = '';
        if (v === 'png') void exportPng(image.title);
        else if (v === 'nbdinfo-json' || v === 'qemu-img-json' || v === 'csv') void exportMap(image.id, v);
      }}
    >
      <option value="" disabled>
        Export…
      </option>
      <option value="nbdinfo-json">JSON (nbdinfo --map)</option>
      <option value="qemu-img-json">JSON (qemu-img map)</option>
      <option value="csv">CSV</option>
      <option value="png">PNG picture</option>
    </select>
  );
}
