// A thin shell around MapRenderer: creates it on mount, feeds it the image's view, bins,
// partitions and theme, and disposes it on unmount. View changes reach the renderer through a
// store subscription, not through React renders.
import { useEffect, useRef } from 'react';
import type { ImageSummary } from '../../../shared/ipc.ts';
import { setActiveMap } from '../app/active-map.ts';
import { useTheme } from '../app/theme.ts';
import { BinsLoader, touches } from '../map/bins-loader.ts';
import { binsFromReply } from '../map/bins.ts';
import { MapRenderer } from '../map/MapRenderer.ts';
import { PALETTES } from '../map/palette.ts';
import { binsFor, centreOn, type View } from '../map/viewport.ts';
import { useApp } from '../store/store.ts';
import { transport } from '../transport/index.ts';

interface Props {
  image: ImageSummary;
  mode: 'detail' | 'overview';
}

export function MapCanvas({ image, mode }: Props) {
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const rendererRef = useRef<MapRenderer | null>(null);
  const theme = useTheme();
  const id = image.id;

  useEffect(() => {
    const canvas = canvasRef.current!;
    const app = useApp.getState;
    const shown = (): View => (mode === 'overview' ? { start: 0, end: app().images.find((i) => i.id === id)?.size ?? 0 } : app().viewOf(id));
    let loader: BinsLoader | null = null;
    const want = () => {
      const view = shown();
      renderer.setView(view);
      if (mode === 'overview') renderer.setWindow(app().viewOf(id));
      loader?.want({ imageId: id, start: view.start, end: view.end, bins: binsFor(view, renderer.deviceWidth) });
    };
    const renderer = new MapRenderer(canvas, {
      mode,
      palette: PALETTES[theme],
      onResize: () => want(),
      onHover:
        mode === 'detail'
          ? (h) => app().setHover(h && h.bin ? { imageId: id, offset: h.offset, bin: h.bin } : null)
          : undefined,
      onZoom: mode === 'detail' ? (anchor, factor) => app().zoom(id, anchor, factor) : undefined,
      onPan: mode === 'detail' ? (fraction) => app().pan(id, fraction) : undefined,
      onClick:
        mode === 'detail'
          ? (offset) => app().select(id, offset)
          : (offset) => app().setView(id, centreOn(app().viewOf(id), offset, shown().end)),
    });
    rendererRef.current = renderer;
    loader = new BinsLoader(
      (w) => transport().invoke('map.bins', w),
      (reply) => renderer.setBins(binsFromReply(reply)),
      (e) => app().setError(`Reading the map: ${e.message}`),
    );
    if (mode === 'detail') setActiveMap(renderer);
    renderer.setPartitions(app().images.find((i) => i.id === id)?.partitions ?? []);
    want();
    const unsubscribeView = useApp.subscribe((s, prev) => {
      if (s.views[id] !== prev.views[id]) want();
    });
    const t = transport();
    const unsubscribeChanged = t.on('map.changed', (e) => {
      const view = shown();
      if (e.imageId === id && touches(e.ranges, view.start, view.end)) loader!.refresh();
    });
    const unsubscribeScan = t.on('map.scanProgress', (e) => {
      if (e.imageId === id) loader!.refresh();
    });
    const unsubscribeImages = t.on('images.changed', () => loader!.refresh());
    return () => {
      unsubscribeView();
      unsubscribeChanged();
      unsubscribeScan();
      unsubscribeImages();
      loader!.dispose();
      renderer.dispose();
      if (mode === 'detail') setActiveMap(null);
      rendererRef.current = null;
    };
    // The theme and partitions reach the renderer through the effects below, without
    // recreating it.
  }, [id, mode]);

  useEffect(() => rendererRef.current?.setPalette(PALETTES[theme]), [theme]);
  useEffect(() => rendererRef.current?.setPartitions(image.partitions), [image.partitions]);

  return (
    <canvas
      ref={canvasRef}
      className={mode}
      data-testid={`map-${mode}`}
      tabIndex={mode === 'detail' ? 0 : -1}
      aria-label={mode === 'detail' ? 'Allocation map (wheel to zoom, drag to pan, click for bytes)' : 'Whole-disk overview (click to jump)'}
    />
  );
}
