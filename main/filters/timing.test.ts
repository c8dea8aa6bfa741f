import { describe, expect, it } from 'vitest';
import { sleepAtLeast } from './timing.ts';

describe('sleepAtLeast', () => {
  it('waits at least the time asked', async () => {
    const t0 = performance.now();
    await sleepAtLeast(25);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(25);
  });
});
