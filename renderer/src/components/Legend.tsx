// What each colour of the map means, in the words nbdinfo uses, and for images with backing
// files one tint per backing file (the colours the map paints, from the same palette).
import { useTheme } from '../app/theme.ts';
import { backingCount, baseName } from '../format/layers.ts';
import { PALETTES, backingColour, cssColour } from '../map/palette.ts';
import { selectBackingSeen, selectLayers } from '../store/selectors.ts';
import { useApp } from '../store/store.ts';

const ITEMS: [string, string, string][] = [
  ['data', 'data', 'allocated data'],
  ['zero', 'zero', 'allocated, reads as zero'],
  ['hole', 'hole', 'hole, reads as zero'],
  ['hole-undefined', 'hole (undefined)', 'hole, contents undefined'],
  ['unknown', 'not scanned', 'not scanned yet'],
  ['mixed', 'mixed', 'a pixel holding several kinds: stacked by bytes'],
];

export function Legend({ imageId }: { imageId: string }) {
  const files = useApp((s) => selectLayers(s, imageId));
  const seen = useApp((s) => selectBackingSeen(s, imageId));
  const layers = backingCount(files, seen);
  return (
    <div className="legend" data-testid="legend">
      {ITEMS.map(([cls, name, title]) => (
        <span key={cls} title={cls === 'data' && layers > 0 ? 'allocated data in the image itself' : title}>
          <span className={`swatch sw-${cls}`} />
          {name}
        </span>
      ))}
      {Array.from({ length: layers }, (_, k) => {
        const file = files?.[k + 1];
        return (
          <span key={`backing-${k + 1}`} title={`data held by backing file ${k + 1}${file ? `: ${file.path}` : ''}`} data-testid={`legend-backing-${k + 1}`}>
            <BackingSwatch layer={k + 1} />
            backing {k + 1}
            {file && <span className="faint"> {baseName(file.path)}</span>}
          </span>
        );
      })}
    </div>
  );
}

/** The tint of data held by backing file `layer` (1 = the image's own backing file). */
export function BackingSwatch({ layer }: { layer: number }) {
  const theme = useTheme();
  return <span className="swatch" style={{ background: cssColour(backingColour(PALETTES[theme], layer)) }} />;
}
