import { describe, expect, it } from 'vitest';
import type { ActivityBins } from '../../../shared/ipc.ts';
import { ActivityFeed, HEAT_HIGH, HEAT_LOW, QUIET_DIM, heatColour, heatFromReply, heatLevel, paintActivity, type ActivityHeat, type ActivitySettings } from './activity-overlay.ts';
import { emptyBins } from './bins.ts';
import { paintBins } from './paint.ts';
import { PALETTES, mix, type Rgb } from './palette.ts';

const dark = PALETTES.dark;

function heat(values: number[], start = 0, end = values.length * 1000): ActivityHeat {
  return heatFromReply({ imageId: 'i', start, end, bins: values.length, counts: values, granularity: 4096, windowSeconds: null });
}

function pixel(target: { data: Uint8ClampedArray; width: number }, x: number, y: number): Rgb {
  const p = (y * target.width + x) * 4;
  return [target.data[p]!, target.data[p + 1]!, target.data[p + 2]!];
}

/** Allocation first (all data), then the heat over it, as the renderer does. */
function paintBoth(values: number[], width: number, height: number) {
  const bins = emptyBins(0, values.length * 1000, values.length);
  bins.data.fill(1000);
  const target = { data: new Uint8ClampedArray(width * height * 4), width, height };
  paintBins(target, bins, dark);
  return { target, lit: paintActivity(target, bins, heat(values), dark) };
}

describe('heat ramp', () => {
  it('is zero without activity and runs 0.2..1 on a log scale of the busiest bin', () => {
    expect(heatLevel(0, 100)).toBe(0);
    expect(heatLevel(5, 0)).toBe(0);
    expect(heatLevel(100, 100)).toBe(1);
    expect(heatLevel(1, 1e9)).toBeGreaterThan(0.2);
    expect(heatLevel(1, 1e9)).toBeLessThan(0.25);
    expect(heatLevel(4096, 1 << 30)).toBeLessThan(heatLevel(1 << 20, 1 << 30));
    expect(heatColour(0.2)).toEqual(HEAT_LOW);
    expect(heatColour(1)).toEqual(HEAT_HIGH);
  });
});

describe('paintActivity', () => {
  it('lights active columns top to bottom in the ramp colour and dims quiet ones', () => {
    const { target, lit } = paintBoth([0, 10, 1000], 3, 4);
    expect(lit).toBe(true);
    expect(pixel(target, 2, 0)).toEqual(HEAT_HIGH);
    expect(pixel(target, 2, 3)).toEqual(HEAT_HIGH);
    expect(pixel(target, 1, 0)).toEqual(heatColour(heatLevel(10, 1000)));
    const dimmed = mix(dark.kinds.data, dark.background, QUIET_DIM);
    for (let y = 0; y < 4; y++) pixel(target, 0, y).forEach((c, k) => expect(Math.abs(c - dimmed[k]!)).toBeLessThanOrEqual(1));
  });

  it('spreads bins over wider canvases column by column', () => {
    const { target } = paintBoth([0, 5], 4, 1);
    expect(pixel(target, 0, 0)[0]).toBeLessThan(100);
    expect(pixel(target, 1, 0)[0]).toBeLessThan(100);
    expect(pixel(target, 2, 0)).toEqual(HEAT_HIGH);
    expect(pixel(target, 3, 0)).toEqual(HEAT_HIGH);
  });

  it('leaves the picture alone when the heat was counted for other bins', () => {
    const bins = emptyBins(0, 2000, 2);
    bins.data.fill(1000);
    const target = { data: new Uint8ClampedArray(2 * 4), width: 2, height: 1 };
    paintBins(target, bins, dark);
    const before = Array.from(target.data);
    expect(paintActivity(target, bins, heat([5, 5], 0, 4000), dark)).toBe(false);
    expect(Array.from(target.data)).toEqual(before);
  });
});

describe('ActivityFeed', () => {
  const reply = (counts: number[]): ActivityBins => ({ imageId: 'i', start: 0, end: 100, bins: counts.length, counts, granularity: 4096, windowSeconds: null });

  it('asks for the view in the chosen mode and window; allocation mode shows nothing and asks nothing', async () => {
    let settings: ActivitySettings = { mode: 'allocation', windowSeconds: null };
    const asked: unknown[] = [];
    const shown: (ActivityHeat | null)[] = [];
    const feed = new ActivityFeed(async (r) => (asked.push(r), reply([1, 2])), () => settings, (h) => shown.push(h));
    feed.want({ imageId: 'i', start: 0, end: 100, bins: 2 });
    expect(asked).toEqual([]);
    expect(shown).toEqual([null]);
    settings = { mode: 'writes', windowSeconds: 60 };
    feed.refresh();
    await new Promise((r) => setTimeout(r, 0));
    expect(asked).toEqual([{ imageId: 'i', start: 0, end: 100, bins: 2, op: 'writes', windowSeconds: 60 }]);
    expect(shown[1]?.values).toEqual(Float64Array.from([1, 2]));
    expect(shown[1]?.max).toBe(2);
  });

  it('drops an answer that a newer question overtook', async () => {
    const pending: ((b: ActivityBins) => void)[] = [];
    const shown: (ActivityHeat | null)[] = [];
    const feed = new ActivityFeed(() => new Promise((resolve) => pending.push(resolve)), () => ({ mode: 'reads', windowSeconds: null }), (h) => shown.push(h));
    feed.want({ imageId: 'i', start: 0, end: 100, bins: 1 });
    feed.want({ imageId: 'i', start: 0, end: 100, bins: 2 });
    pending[1]!(reply([7, 8]));
    pending[0]!(reply([1]));
    await new Promise((r) => setTimeout(r, 0));
    expect(shown.map((h) => h?.count)).toEqual([2]);
  });
});
