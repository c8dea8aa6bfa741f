// What the image is: where it lives, its format and sizes, how it is allocated, and its
// partitions (a click zooms the map to one).
import type { ImageSummary } from '../../../shared/ipc.ts';
import { formatBytes, formatExact, formatPercent } from '../format/bytes.ts';
import { useApp } from '../store/store.ts';

export function InfoPanel({ image }: { image: ImageSummary }) {
  const showRange = useApp((s) => s.showRange);
  const t = image.totals;
  const kinds: [string, string, number][] = [
    ['data', 'data', t.data],
    ['zero', 'zero', t.zero],
    ['hole', 'hole', t.hole],
    ['hole-undefined', 'hole (undefined)', t.holeUndefined],
    ['unknown', 'not scanned', t.unknown],
  ];
  return (
    <section className="card" aria-label="Image information" data-testid="info-panel">
      <h2>
        Image
        <span className="right faint mono">{image.chainLabel}</span>
      </h2>
      <div className="info-grid">
        <KV k="Path" v={image.path ?? image.uri ?? image.title} title={image.path ?? image.uri} mono />
        <KV k="Format" v={image.demo ? `${image.format} (demo)` : image.format} />
        <KV k="Virtual size" v={formatBytes(image.size)} title={`${formatExact(image.size)} bytes`} />
        <KV k="On disk" v={image.onDiskSize === null ? '—' : formatBytes(image.onDiskSize)} title={image.onDiskSize === null ? undefined : `${formatExact(image.onDiskSize)} bytes`} />
        <KV k="Partitions" v={image.partitionScheme === 'none' ? 'none' : `${image.partitionScheme.toUpperCase()} · ${image.partitions.length}`} />
      </div>
      <div className="alloc-bar" aria-hidden>
        {kinds.map(([cls, , bytes]) =>
          bytes > 0 ? <span key={cls} className={`sw-${cls}`} style={{ width: `${(bytes / Math.max(1, image.size)) * 100}%` }} /> : null,
        )}
      </div>
      <div className="totals" data-testid="totals">
        {kinds
          .filter(([cls, , bytes]) => bytes > 0 || cls === 'data' || cls === 'zero' || cls === 'hole')
          .map(([cls, name, bytes]) => (
            <span key={cls} title={`${formatExact(bytes)} bytes`}>
              <span className={`swatch sw-${cls}`} />
              {name} <b>{formatBytes(bytes)}</b> <span className="muted">{formatPercent(bytes, image.size)}</span>
            </span>
          ))}
      </div>
      {image.warnings.length > 0 && (
        <ul style={{ color: 'var(--warn)', margin: '8px 0 0', paddingLeft: 18 }}>
          {image.warnings.map((w) => (
            <li key={w}>{w}</li>
          ))}
        </ul>
      )}
      {image.partitions.length > 0 && (
        <table className="grid" style={{ marginTop: 10 }} data-testid="partitions">
          <thead>
            <tr>
              <th>#</th>
              <th>Name / type</th>
              <th>Filesystem</th>
              <th>Label</th>
              <th className="num">Start</th>
              <th className="num">Size</th>
            </tr>
          </thead>
          <tbody>
            {image.partitions.map((p) => (
              <tr key={p.number} className="clickable" title="Zoom the map to this partition" onClick={() => showRange(image.id, p.start, p.start + p.length)}>
                <td className="mono">p{p.number}</td>
                <td>{p.name || p.typeName}{p.name && <span className="faint"> · {p.typeName}</span>}</td>
                <td>{p.filesystem?.type ?? <span className="faint">—</span>}</td>
                <td>{p.filesystem?.label ?? <span className="faint">—</span>}</td>
                <td className="num">{formatBytes(p.start)}</td>
                <td className="num">{formatBytes(p.length)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function KV({ k, v, title, mono }: { k: string; v: string; title?: string; mono?: boolean }) {
  return (
    <div className="kv" title={title ?? v}>
      <div className="k">{k}</div>
      <div className={`v${mono ? ' mono' : ''}`}>{v}</div>
    </div>
  );
}
