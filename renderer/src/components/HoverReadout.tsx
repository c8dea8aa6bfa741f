// Exactly what is under the pointer: the pixel's byte range and what it holds, the whole
// extent containing the byte (asked from main), and its partition.
import { useEffect, useState } from 'react';
import type { ExtentAt, ImageLayerInfo } from '../../../shared/ipc.ts';
import { formatBytes, formatExact, formatHex } from '../format/bytes.ts';
import { depthWords } from '../format/layers.ts';
import type { BinSummary } from '../map/bins.ts';
import { partitionLabel } from '../map/overlay.ts';
import { dataShares, shareWords } from '../map/share.ts';
import { partitionAt } from '../../../shared/ipc.ts';
import { BLOCK } from '../map/viewport.ts';
import { selectLayers, selectPartitions } from '../store/selectors.ts';
import { useApp } from '../store/store.ts';
import { transport } from '../transport/index.ts';

const KIND_WORDS: Record<string, string> = {
  data: 'data',
  zero: 'zero',
  hole: 'hole,zero',
  'hole-undefined': 'hole (contents undefined)',
  unknown: 'not scanned yet',
  backing: 'data in a backing file',
  mixed: 'mixed',
  empty: '—',
};

function counts(bin: BinSummary): string {
  const parts: [string, number][] = [
    ['data', bin.data],
    ...bin.backing.map((bytes, k): [string, number] => [`backing ${k + 1}`, bytes]),
    ['zero', bin.zero],
    ['hole', bin.hole],
    ['hole (undef.)', bin.holeUndefined],
    ['unscanned', bin.unknown],
  ];
  return parts
    .filter(([, v]) => v > 0)
    .map(([k, v]) => `${k} ${formatExact(v)} B`)
    .join(' · ');
}

/** What a bin holds; a bin only backing files fill names the one file when there is one. */
function binWords(bin: BinSummary): string {
  if (bin.kind !== 'backing') return KIND_WORDS[bin.kind]!;
  const held = bin.backing.flatMap((bytes, k) => (bytes > 0 ? [k + 1] : []));
  return held.length === 1 ? `data in backing ${held[0]}` : KIND_WORDS.backing!;
}

/** The extent's kind, and for image chains the layer holding it. */
function extentWords(ext: ExtentAt, layers: readonly ImageLayerInfo[] | undefined): string {
  const kind = ext.kind === 'unknown' ? 'not scanned yet' : KIND_WORDS[ext.kind]!;
  return ext.depth === undefined ? kind : `${kind} · ${depthWords(ext.depth, layers)}`;
}

/**
 * The whole extent holding `offset` (the hovered or selected byte), asked from main once the
 * pointer settles; `asked` changes when the same byte should be asked about again.
 */
function useExtentAt(imageId: string, offset: number | null, asked: unknown): ExtentAt | null {
  const [extent, setExtent] = useState<{ offset: number; at: ExtentAt } | null>(null);
  useEffect(() => {
    if (offset === null) return;
    let live = true;
    // Waits for the pointer to settle: one extentAt per pause, not per mouse move.
    const timer = setTimeout(() => {
      transport()
        .invoke('map.extentAt', { imageId, offset })
        .then((at) => live && setExtent({ offset, at }))
        .catch(() => {});
    }, 40);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [offset, imageId, asked]);
  return offset !== null && extent && extent.at.offset <= offset && offset < extent.at.offset + extent.at.length ? extent.at : null;
}

export function HoverReadout({ imageId }: { imageId: string }) {
  const hover = useApp((s) => (s.hover?.imageId === imageId ? s.hover : null));
  const partitions = useApp((s) => selectPartitions(s, imageId));
  const layers = useApp((s) => selectLayers(s, imageId));
  // Without a pointer on the map, the selected byte (a click, or "go to offset") is described.
  const selected = useApp((s) => (s.selected?.imageId === imageId ? s.selected : null));
  const ext = useExtentAt(imageId, hover?.offset ?? selected?.offset ?? null, hover ?? selected);
  const offset = hover?.offset ?? selected?.offset;
  if (offset === undefined) {
    return (
      <div className="readout empty" data-testid="hover-readout">
        Point at the map for exact byte ranges. Wheel zooms, drag pans, click shows the bytes.
      </div>
    );
  }
  const extent = ext ? `${extentWords(ext, layers)} · [${formatHex(ext.offset)}, ${formatHex(ext.offset + ext.length)}) · ${formatBytes(ext.length)}` : '…';
  const part = partitionAt(partitions ?? [], offset);
  return (
    <div className="readout" data-testid="hover-readout">
      {hover ? <PixelRows offset={hover.offset} bin={hover.bin} /> : <SelectedRow offset={offset} />}
      <span className="k">Extent</span>
      <span className="mono" data-testid="hover-extent">
        {extent}
      </span>
      <span className="k">Partition</span>
      <span>{part ? partitionLabel(part) : <span className="faint">none</span>}</span>
    </div>
  );
}

function SelectedRow({ offset }: { offset: number }) {
  return (
    <>
      <span className="k">Selected</span>
      <span className="mono" data-testid="selected-offset">
        {formatHex(offset)} ({formatExact(offset)}) · block {formatHex(Math.floor(offset / BLOCK) * BLOCK)}
      </span>
    </>
  );
}

/** The hovered byte, its pixel's range and kinds, and the exact share of data the pixel holds. */
function PixelRows({ offset, bin }: { offset: number; bin: BinSummary }) {
  const shares = dataShares(bin);
  return (
    <>
      <span className="k">Offset</span>
      <span className="mono">
        {formatHex(offset)} ({formatExact(offset)})
      </span>
      <span className="k">Pixel</span>
      <span className="mono" data-testid="hover-bin">
        {binWords(bin)} · [{formatHex(bin.from)}, {formatHex(bin.to)}) · {formatBytes(bin.to - bin.from)}
        {bin.kind === 'mixed' ? ` · ${counts(bin)}` : ''}
      </span>
      <span className="k">Data</span>
      <span className="mono" data-testid="hover-share">
        {shares.length > 0 ? shares.map(shareWords).join(' · ') : <span className="faint">none</span>}
      </span>
    </>
  );
}
