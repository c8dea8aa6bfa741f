// Time helpers shared by the filters that wait (delay) or measure (stats).

/**
 * Wait at least `ms` milliseconds. Node timers may fire up to a millisecond early;
 * a filter that promises a delay re-arms until the full time has passed.
 */
export async function sleepAtLeast(ms: number): Promise<void> {
  if (ms <= 0) return;
  const until = performance.now() + ms;
  for (let left = ms; left > 0; left = until - performance.now()) {
    await new Promise<void>((resolve) => setTimeout(resolve, Math.ceil(left)));
  }
}
