// The diff map's canvas: one column per device pixel over the whole disk, repainted when the
// comparison, the theme or the width changes; a tick at the top marks the current difference.
// A click picks the difference there (or the next one after it).
import { useEffect, useRef, type MouseEvent } from 'react';
import type { CompareRange, CompareRun } from '../../../shared/ipc.ts';
import { useTheme } from '../app/theme.ts';
import { diffColours, diffColumns, paintDiff } from '../compare/diff-map.ts';
import { PALETTES } from '../map/palette.ts';

const HEIGHT = 48;

interface Props {
  run: CompareRun;
  current: CompareRange | undefined;
  /** The byte offset under a click. */
  onPick(offset: number): void;
}

export function CompareMap({ run, current, onPick }: Props) {
  const ref = useRef<HTMLCanvasElement>(null);
  const theme = useTheme();
  useEffect(() => {
    const canvas = ref.current!;
    const paint = () => {
      const dpr = window.devicePixelRatio || 1;
      const width = Math.max(1, Math.round(canvas.clientWidth * dpr));
      const height = Math.round(HEIGHT * dpr);
      canvas.width = width;
      canvas.height = height;
      const ctx = canvas.getContext('2d');
      if (!ctx) return;
      const image = ctx.createImageData(width, height);
      const palette = PALETTES[theme];
      const size = Math.max(run.sizeA, run.sizeB, 1);
      paintDiff(image, diffColumns(run.ranges, size, width), diffColours(palette, theme), palette.background);
      ctx.putImageData(image, 0, 0);
      if (current) {
        ctx.fillStyle = theme === 'dark' ? '#fff' : '#000';
        // A tick above the column, not over it: the column's colours stay readable.
        ctx.fillRect(Math.min(width - 1, Math.floor((current.offset / size) * width)), 0, Math.max(1, Math.round(dpr)), Math.round(height / 4));
      }
    };
    paint();
    const observer = new ResizeObserver(paint);
    observer.observe(canvas);
    return () => observer.disconnect();
  }, [run, current, theme]);
  const pick = (e: MouseEvent<HTMLCanvasElement>) => {
    const box = e.currentTarget.getBoundingClientRect();
    onPick(Math.floor(((e.clientX - box.left) / box.width) * Math.max(run.sizeA, run.sizeB)));
  };
  return <canvas ref={ref} className="compare-map" style={{ width: '100%', height: HEIGHT }} data-testid="compare-map" aria-label="Diff map (click a difference)" onClick={pick} />;
}
