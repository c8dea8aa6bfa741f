// The map's colours, one table per theme. Kinds differ in hue *and* lightness so the map stays
// readable for the common colour-vision deficiencies: data is a saturated blue, zero a green
// of a different lightness, holes sit close to the background, and HOLE-without-ZERO (contents
// undefined) is amber because it is the one kind worth a second look.
import type { ExtentKind } from '../../../shared/extents.ts';

export type Rgb = readonly [number, number, number];
export type ThemeName = 'dark' | 'light';

export interface Palette {
  background: Rgb;
  kinds: Record<ExtentKind, Rgb>;
  /** Not scanned yet: drawn as a hatch of these two, so it never passes for a real kind. */
  unknown: readonly [Rgb, Rgb];
  /** Drawn over partition boundaries and labels. */
  partition: Rgb;
  /**
   * Data held by backing files, one hue per file (1st, 2nd, ...): warm of data's blue and
   * apart from each other, so the layers of a chain read as separate at a glance.
   */
  backing: readonly Rgb[];
}

export const PALETTES: Record<ThemeName, Palette> = {
  dark: {
    background: [20, 23, 28],
    kinds: {
      data: [79, 140, 255],
      zero: [52, 199, 145],
      hole: [44, 51, 63],
      'hole-undefined': [232, 166, 52],
    },
    unknown: [[34, 38, 46], [58, 63, 74]],
    partition: [236, 239, 244],
    backing: [[150, 112, 240], [214, 106, 198], [240, 118, 134]],
  },
  light: {
    background: [250, 251, 252],
    kinds: {
      data: [37, 99, 235],
      zero: [16, 163, 127],
      hole: [220, 225, 233],
      'hole-undefined': [214, 138, 12],
    },
    unknown: [[238, 240, 243], [206, 210, 217]],
    partition: [24, 28, 36],
    backing: [[118, 72, 222], [178, 58, 162], [212, 66, 96]],
  },
};

export function mix(a: Rgb, b: Rgb, t: number): Rgb {
  const f = (x: number, y: number) => Math.round(x + (y - x) * t);
  return [f(a[0], b[0]), f(a[1], b[1]), f(a[2], b[2])];
}

/**
 * Data held by backing file `layer` (1 = the image's own backing file). Deeper chains than the
 * palette has hues for reuse them, each round nearer the background.
 */
export function backingColour(palette: Palette, layer: number): Rgb {
  const hues = palette.backing;
  const k = Math.max(0, layer - 1);
  const hue = hues[k % hues.length]!;
  const round = Math.floor(k / hues.length);
  return round === 0 ? hue : mix(hue, palette.background, Math.min(0.6, 0.3 * round));
}

export function cssColour(rgb: Rgb): string {
  return `rgb(${rgb[0]}, ${rgb[1]}, ${rgb[2]})`;
}
