import { describe, expect, it } from 'vitest';
import { createRandom } from './seeded-random.ts';

const take = (r: () => number, n: number) => Array.from({ length: n }, r);

describe('createRandom', () => {
  it('repeats its sequence for the same seed', () => {
    expect(take(createRandom(7), 5)).toEqual(take(createRandom(7), 5));
  });

  it('differs between seeds', () => {
    expect(take(createRandom(7), 5)).not.toEqual(take(createRandom(8), 5));
  });

  it('stays in [0, 1) and spreads over it', () => {
    const xs = take(createRandom(1), 1000);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(xs.filter((x) => x < 0.5).length).toBeGreaterThan(400);
    expect(xs.filter((x) => x < 0.5).length).toBeLessThan(600);
  });
});
