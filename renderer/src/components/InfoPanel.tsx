// What the image is: where it lives, its format and sizes, how it is allocated (with the
// data each backing file holds), the files of its backing chain, and its partitions (a click
// zooms the map to one).
import { useShallow } from 'zustand/react/shallow';
import type { AllocationTotals, PartitionInfo } from '../../../shared/ipc.ts';
import { useTheme } from '../app/theme.ts';
import { formatBytes, formatExact, formatPercent } from '../format/bytes.ts';
import { baseName, layerLabel } from '../format/layers.ts';
import { PALETTES, backingColour, cssColour } from '../map/palette.ts';
import { selectImageFacts, type ImageFacts } from '../store/selectors.ts';
import { useApp } from '../store/store.ts';
import { ActivityTotals } from './ActivityTotals.tsx';
import { BackingSwatch } from './Legend.tsx';

/** A row of the allocation totals: swatch class (or backing file number), name, bytes. */
type Kind = [cls: string | number, name: string, bytes: number];

/** The totals as rows, the image's own data apart from what each backing file holds. */
function allocationKinds(t: AllocationTotals): { kinds: Kind[]; topData: number; backing: number[] } {
  const backing = t.backing ?? [];
  const topData = t.data - backing.reduce((a, b) => a + b, 0);
  const kinds: Kind[] = [
    ['data', backing.length ? 'data (image)' : 'data', topData],
    ...backing.map((bytes, k): Kind => [k + 1, `backing ${k + 1}`, bytes]),
    ['zero', 'zero', t.zero],
    ['hole', 'hole', t.hole],
    ['hole-undefined', 'hole (undefined)', t.holeUndefined],
    ['unknown', 'not scanned', t.unknown],
  ];
  return { kinds, topData, backing };
}

export function InfoPanel({ imageId }: { imageId: string }) {
  const image = useApp(useShallow((s) => selectImageFacts(s, imageId)));
  if (!image) return null;
  const { kinds, topData, backing } = allocationKinds(image.totals);
  return (
    <section className="card" aria-label="Image information" data-testid="info-panel">
      <h2>
        Image
        <span className="right faint mono">{image.chainLabel}</span>
      </h2>
      <Facts image={image} />
      {image.rawFallback && (
        <div className="open-note" data-testid="raw-fallback" title="Blockscope reads the file's bytes as the disk, as it does for any file no format claims">
          opened as raw (no image format recognised)
        </div>
      )}
      <AllocationBar kinds={kinds} size={image.size} />
      <Totals kinds={kinds} size={image.size} />
      {image.warnings.length > 0 && (
        <ul style={{ color: 'var(--warn)', margin: '8px 0 0', paddingLeft: 18 }}>
          {image.warnings.map((w) => (
            <li key={w}>{w}</li>
          ))}
        </ul>
      )}
      {image.layers && image.layers.length > 0 && <LayerTable image={image} topData={topData} backing={backing} />}
      {image.partitions.length > 0 && <PartitionTable imageId={imageId} partitions={image.partitions} />}
      <ActivityTotals imageId={imageId} />
    </section>
  );
}

function Facts({ image }: { image: ImageFacts }) {
  return (
    <div className="info-grid">
      <KV k="Path" v={image.path ?? image.uri ?? image.title} title={image.path ?? image.uri} mono />
      <KV k="Format" v={image.demo ? `${image.format} (demo)` : image.format} />
      <KV k="Virtual size" v={formatBytes(image.size)} title={`${formatExact(image.size)} bytes`} />
      <KV k="On disk" v={image.onDiskSize === null ? '—' : formatBytes(image.onDiskSize)} title={image.onDiskSize === null ? undefined : `${formatExact(image.onDiskSize)} bytes`} />
      <KV k="Partitions" v={image.partitionScheme === 'none' ? 'none' : `${image.partitionScheme.toUpperCase()} · ${image.partitions.length}`} />
    </div>
  );
}

function AllocationBar({ kinds, size }: { kinds: Kind[]; size: number }) {
  const theme = useTheme();
  return (
    <div className="alloc-bar" aria-hidden>
      {kinds.map(([cls, , bytes]) => {
        if (bytes <= 0) return null;
        const width = `${(bytes / Math.max(1, size)) * 100}%`;
        return typeof cls === 'number' ? (
          <span key={cls} style={{ width, background: cssColour(backingColour(PALETTES[theme], cls)) }} />
        ) : (
          <span key={cls} className={`sw-${cls}`} style={{ width }} />
        );
      })}
    </div>
  );
}

function Totals({ kinds, size }: { kinds: Kind[]; size: number }) {
  return (
    <div className="totals" data-testid="totals">
      {kinds
        .filter(([cls, , bytes]) => bytes > 0 || typeof cls === 'number' || cls === 'data' || cls === 'zero' || cls === 'hole')
        .map(([cls, name, bytes]) => (
          <span key={cls} title={`${formatExact(bytes)} bytes`}>
            {typeof cls === 'number' ? <BackingSwatch layer={cls} /> : <span className={`swatch sw-${cls}`} />}
            {name} <b>{formatBytes(bytes)}</b> <span className="muted">{formatPercent(bytes, size)}</span>
          </span>
        ))}
    </div>
  );
}

function PartitionTable({ imageId, partitions }: { imageId: string; partitions: PartitionInfo[] }) {
  const showRange = useApp((s) => s.showRange);
  return (
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
        {partitions.map((p) => (
          <tr key={p.number} className="clickable" title="Zoom the map to this partition" onClick={() => showRange(imageId, p.start, p.start + p.length)}>
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
  );
}

/** The image file and its backing files, with the data each one supplies to the disk. */
function LayerTable({ image, topData, backing }: { image: ImageFacts; topData: number; backing: number[] }) {
  return (
    <table className="grid" style={{ marginTop: 10 }} data-testid="layers">
      <thead>
        <tr>
          <th>Layer</th>
          <th>File</th>
          <th>Format</th>
          <th className="num">Size</th>
          <th className="num" title="Data this file supplies to the disk (what the layers above it do not cover)">Data held</th>
        </tr>
      </thead>
      <tbody>
        {image.layers!.map((l) => {
          const held = l.depth === 1 ? topData : (backing[l.depth - 2] ?? 0);
          return (
            <tr key={l.depth} title={`${l.path}\n${l.summary}`}>
              <td>
                {l.depth > 1 ? <BackingSwatch layer={l.depth - 1} /> : <span className="swatch sw-data" />}
                {layerLabel(l.depth)}
              </td>
              <td className="mono">{baseName(l.path)}</td>
              <td>{l.format}</td>
              <td className="num">{formatBytes(l.size)}</td>
              <td className="num" title={`${formatExact(held)} bytes`}>
                {image.scanComplete || held > 0 ? formatBytes(held) : <span className="faint">…</span>}
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
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
