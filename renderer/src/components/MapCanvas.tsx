// A thin shell around a map canvas: creates its MapController (data wiring) and MapRenderer
// (pixels) on mount, hands the renderer the theme's palette, and disposes both on unmount.
// Views, bins and partitions reach the renderer through the controller, not through renders.
import { useEffect, useLayoutEffect, useRef } from 'react';
import { setActiveMap } from '../app/active-map.ts';
import { useTheme } from '../app/theme.ts';
import { MapController, type MapMode } from '../map/MapController.ts';
import { MapRenderer } from '../map/MapRenderer.ts';
import { PALETTES } from '../map/palette.ts';
import { useApp } from '../store/store.ts';
import { transport } from '../transport/index.ts';

interface Props {
  imageId: string;
  mode: MapMode;
  /** Told the canvas's width in device pixels (the header's bytes-per-pixel figure). */
  onDeviceWidth?(width: number): void;
}

export function MapCanvas({ imageId, mode, onDeviceWidth }: Props) {
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const rendererRef = useRef<MapRenderer | null>(null);
  const theme = useTheme();

  // Before the first paint: the panel's header learns the map's width in the same frame.
  useLayoutEffect(() => {
    const canvas = canvasRef.current!;
    const controller = new MapController({
      imageId,
      mode,
      store: useApp,
      transport: transport(),
      onDeviceWidth,
      createSurface: (input) => new MapRenderer(canvas, { mode, palette: PALETTES[theme], ...input }),
    });
    rendererRef.current = controller.surface;
    if (mode === 'detail') setActiveMap(controller.surface);
    return () => {
      controller.dispose();
      if (mode === 'detail') setActiveMap(null);
      rendererRef.current = null;
    };
    // The theme reaches the renderer through the effect below, without recreating it;
    // onDeviceWidth is a state setter.
  }, [imageId, mode]);

  useEffect(() => rendererRef.current?.setPalette(PALETTES[theme]), [theme]);

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
