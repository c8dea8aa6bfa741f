import { describe, expect, it } from 'vitest';
import { binsFor, centreOn, clampView, offsetAtX, panBy, viewOf, xOfOffset, zoomAt } from './viewport.ts';

const GiB = 2 ** 30;

describe('zoomAt', () => {
  it('halves the span around the middle', () => {
    expect(zoomAt({ start: 0, end: 1024 * 1024 }, 0.5, 0.5, 1024 * 1024)).toEqual({ start: 262144, end: 786432 });
  });

  it('keeps the byte under the pointer in place', () => {
    const v = zoomAt({ start: 0, end: GiB }, 0.25, 0.1, GiB);
    expect(v.start + 0.25 * (v.end - v.start)).toBeCloseTo(GiB / 4, -1);
  });

  it('stops at sixteen 512-byte blocks', () => {
    const v = zoomAt({ start: 0, end: GiB }, 0, 1e-12, GiB);
    expect(v.end - v.start).toBe(8192);
  });

  it('never zooms out past the whole disk', () => {
    expect(zoomAt({ start: 100, end: 200 + GiB / 2 }, 0.5, 10, GiB)).toEqual({ start: 0, end: GiB });
  });
});

describe('clampView / panBy', () => {
  it('slides a view that runs past the end back inside, keeping its span', () => {
    expect(clampView({ start: 90_000, end: 110_000 }, 100_000)).toEqual({ start: 80_000, end: 100_000 });
  });

  it('pans by a fraction of the view', () => {
    expect(panBy({ start: 0, end: 100_000 }, 0.5, 1_000_000)).toEqual({ start: 50_000, end: 150_000 });
  });

  it('cannot pan before offset 0', () => {
    expect(panBy({ start: 10_000, end: 110_000 }, -1, 1_000_000)).toEqual({ start: 0, end: 100_000 });
  });

  it('centres on an offset', () => {
    expect(centreOn({ start: 0, end: 100_000 }, 500_000, 1_000_000)).toEqual({ start: 450_000, end: 550_000 });
  });

  it('widens a one-byte selection to the minimum span', () => {
    expect(viewOf(0, 1, GiB)).toEqual({ start: 0, end: 8192 });
  });
});

describe('pixel <-> byte', () => {
  it('finds the byte under a pixel', () => {
    expect(offsetAtX({ start: 1000, end: 2000 }, 50, 100)).toBe(1500);
  });

  it('puts a byte at its pixel', () => {
    expect(xOfOffset({ start: 1000, end: 2000 }, 1250, 100)).toBe(25);
  });

  it('asks for one bin per pixel but no more bins than blocks', () => {
    expect(binsFor({ start: 0, end: GiB }, 1200)).toBe(1200);
    expect(binsFor({ start: 0, end: 8192 }, 1200)).toBe(16);
  });
});
