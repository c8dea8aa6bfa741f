// The allocation map: header with the visible range and zoom controls, the whole-disk
// overview, the detail map, an offset axis, the legend and the hover readout.
import { useState } from 'react';
import { shortcutText } from '../../../shared/commands.ts';
import { exportMap, exportPng } from '../app/actions.ts';
import { isMac } from '../app/shortcuts.ts';
import { formatBytes, formatHex, formatPercent } from '../format/bytes.ts';
import { axisLabels } from '../map/axis.ts';
import { parseGoTo, viewAround } from '../map/goto.ts';
import { bytesPerPixel, type View } from '../map/viewport.ts';
import { selectScan, selectSize } from '../store/selectors.ts';
import { useApp } from '../store/store.ts';
import { ActionMenu } from './ActionMenu.tsx';
import { ActivityControls } from './ActivityControls.tsx';
import { ComparePanel } from './ComparePanel.tsx';
import { HoverReadout } from './HoverReadout.tsx';
import { Legend } from './Legend.tsx';
import { MapCanvas } from './MapCanvas.tsx';

export function MapPanel({ imageId }: { imageId: string }) {
  const size = useApp((s) => selectSize(s, imageId)) ?? 0;
  const stored = useApp((s) => s.views[imageId]);
  // Null until the detail map has measured itself: a guessed width would show a wrong figure.
  const [deviceWidth, setDeviceWidth] = useState<number | null>(null);
  const [comparing, setComparing] = useState(false);
  const view = stored ?? { start: 0, end: size };
  return (
    <section className="card" aria-label="Allocation map">
      <div className="map-head">
        <h2 style={{ margin: 0 }}>Allocation map</h2>
        <ViewRange view={view} size={size} deviceWidth={deviceWidth} />
        <ScanPill imageId={imageId} />
        <GoToOffset imageId={imageId} size={size} view={view} />
        <ZoomButtons imageId={imageId} whole={view.start === 0 && view.end === size} />
        <ExportMenu imageId={imageId} />
        <button className="btn small" aria-pressed={comparing} onClick={() => setComparing(!comparing)} data-testid="compare-open">
          Compare with…
        </button>
      </div>
      <MapCanvas imageId={imageId} mode="overview" />
      <MapCanvas imageId={imageId} mode="detail" onDeviceWidth={setDeviceWidth} />
      <div className="axis" aria-hidden>
        {axisLabels(view).map((label, k) => (
          <span key={k}>{label}</span>
        ))}
      </div>
      <HoverReadout imageId={imageId} />
      <Legend imageId={imageId} />
      <ActivityControls imageId={imageId} />
      {comparing && <ComparePanel key={imageId} imageId={imageId} />}
    </section>
  );
}

function ViewRange({ view, size, deviceWidth }: { view: View; size: number; deviceWidth: number | null }) {
  const span = view.end - view.start;
  const whole = view.start === 0 && view.end === size;
  return (
    <span className="range" data-testid="view-range">
      {formatHex(view.start)}–{formatHex(view.end)} · {formatBytes(span)}
      {whole ? '' : ` · ${(size / span).toFixed(size / span < 10 ? 1 : 0)}×`}
      {deviceWidth === null ? '' : ` · ${formatBytes(Math.max(1, Math.round(bytesPerPixel(view, deviceWidth))))}/px`}
    </span>
  );
}

/** The one part of the panel that scan progress re-renders. */
function ScanPill({ imageId }: { imageId: string }) {
  const scan = useApp((s) => selectScan(s, imageId));
  if (!scan || scan.complete || scan.error) return null;
  return (
    <span className="pill" data-testid="map-scanning" title="Regions not scanned yet are hatched">
      scanning {formatPercent(scan.done, scan.total)}
    </span>
  );
}

/** A field taking 0x…, decimal or 1.5G: the map centres on that byte and the hex view shows its block. */
function GoToOffset({ imageId, size, view }: { imageId: string; size: number; view: View }) {
  const setView = useApp((s) => s.setView);
  const select = useApp((s) => s.select);
  const [text, setText] = useState('');
  const [error, setError] = useState<string | null>(null);
  const go = () => {
    const target = parseGoTo(text, size);
    if ('error' in target) return setError(target.error);
    setError(null);
    setView(imageId, viewAround(view, target.offset, size));
    select(imageId, target.offset);
  };
  return (
    <span className="goto" style={{ display: 'inline-flex', alignItems: 'center', gap: 4, position: 'relative' }}>
      <input
        className="input mono"
        style={{ width: 100, ...(error ? { borderColor: 'var(--bad)' } : {}) }}
        aria-label="Go to offset"
        aria-invalid={error !== null}
        title="Go to an offset: 0x1f000, 1048576, 1.5G, 512K"
        placeholder="Go to 0x…, 1.5G"
        value={text}
        data-testid="goto-offset"
        onChange={(e) => {
          setText(e.target.value);
          setError(null);
        }}
        onKeyDown={(e) => {
          if (e.key === 'Enter') go();
          if (e.key === 'Escape') {
            setText('');
            setError(null);
          }
        }}
      />
      {error && (
        <span role="alert" data-testid="goto-error" style={{ position: 'absolute', top: '100%', left: 0, zIndex: 2, whiteSpace: 'nowrap', color: 'var(--bad)', fontSize: 11, background: 'var(--bg)', padding: '2px 4px' }}>
          {error}
        </span>
      )}
    </span>
  );
}

function ZoomButtons({ imageId, whole }: { imageId: string; whole: boolean }) {
  const zoom = useApp((s) => s.zoom);
  const reset = useApp((s) => s.resetView);
  const mac = isMac();
  return (
    <>
      <button className="btn icon" title={`Zoom in (${shortcutText('zoom-in', mac)})`} onClick={() => zoom(imageId, 0.5, 0.5)} data-testid="zoom-in">
        +
      </button>
      <button className="btn icon" title={`Zoom out (${shortcutText('zoom-out', mac)})`} onClick={() => zoom(imageId, 0.5, 2)} data-testid="zoom-out">
        −
      </button>
      <button className="btn small" title={`Whole disk (${shortcutText('zoom-reset', mac)})`} onClick={() => reset(imageId)} disabled={whole}>
        Whole disk
      </button>
    </>
  );
}

const MAP_EXPORTS = [
  ['nbdinfo-json', 'JSON (nbdinfo --map)'],
  ['qemu-img-json', 'JSON (qemu-img map)'],
  ['csv', 'CSV'],
  ['png', 'PNG picture'],
] as const;

function ExportMenu({ imageId }: { imageId: string }) {
  return (
    <ActionMenu
      label="Export map"
      placeholder="Export…"
      testId="export-map"
      entries={MAP_EXPORTS}
      onChoose={(format) => void (format === 'png' ? exportPng(imageId) : exportMap(imageId, format))}
    />
  );
}
