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
  /** Backing-layer tints are data's hue pulled toward this grey, one step per depth. */
  backingBase: Rgb;
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
    backingBase: [150, 132, 220],
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
    backingBase: [124, 96, 206],
  },
};

export function mix(a: Rgb, b: Rgb, t: number): Rgb {
  const f = (x: number, y: number) => Math.round(x + (y - x) * t);
  return [f(a[0], b[0]), f(a[1], b[1]), f(a[2], b[2])];
}

/** Data held by backing layer `depth` (1 = first backing file): violet-shifted, lighter each step. */
export function backingColour(palette: Palette, depth: number): Rgb {
  const toward = Math.min(0.85, 0.55 + 0.12 * (depth - 1));
  return mix(palette.kinds.data, palette.backingBase, toward);
}

export function cssColour(rgb: Rgb): string {
  return `rgb(${rgb[0]}, ${rgb[1]}, ${rgb[2]})`;
}
