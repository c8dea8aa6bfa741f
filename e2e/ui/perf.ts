// Measuring the map from a spec: the frame cadence and each frame's main-thread work, recorded
// in the page; the heap after garbage collection; wheel zooms and drag pans as a user makes
// them. Specs print what these return; the performance goals themselves are benchmarks.
import type { Page } from '@playwright/test';
import { DETAIL } from './map-page.ts';

/** Chromium as the suite runs it, with gc() exposed so heap figures are after collection. */
export const PERF_LAUNCH_OPTIONS = {
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--js-flags=--expose-gc'],
};

interface FrameLog {
  on: boolean;
  /** ms between consecutive animation frames */
  intervals: number[];
  /** ms from a frame's first animation callback to the first task after its rendering */
  work: number[];
}

// Page-side shapes, declared here so the Node-side compile needs no DOM library.
declare const window: {
  gc(): void;
  __frameLog: FrameLog;
  requestAnimationFrame(f: (t: number) => void): number;
};
declare const performance: { now(): number; memory: { usedJSHeapSize: number } };
declare class MessageChannel {
  port1: { onmessage: (() => void) | null };
  port2: { postMessage(m: unknown): void };
}

export async function heapAfterGc(page: Page): Promise<number> {
  await page.evaluate(() => {
    window.gc();
    window.gc();
  });
  return page.evaluate(() => performance.memory.usedJSHeapSize);
}

/**
 * Starts recording frames until stopFrames. A frame's work is measured from the first
 * requestAnimationFrame callback (this recorder registers first each frame) to a message
 * posted from it, which runs once the frame's callbacks, style, layout and paint are done.
 */
export async function startFrames(page: Page): Promise<void> {
  await page.evaluate(() => {
    const log: FrameLog = { on: true, intervals: [], work: [] };
    window.__frameLog = log;
    const channel = new MessageChannel();
    let frameStart = 0;
    let last = -1;
    channel.port1.onmessage = () => log.work.push(performance.now() - frameStart);
    const tick = (t: number) => {
      if (!log.on) return;
      if (last >= 0) log.intervals.push(t - last);
      last = t;
      frameStart = performance.now();
      channel.port2.postMessage(0);
      window.requestAnimationFrame(tick);
    };
    window.requestAnimationFrame(tick);
  });
}

export async function stopFrames(page: Page): Promise<{ intervals: number[]; work: number[] }> {
  return page.evaluate(() => {
    const log = window.__frameLog;
    log.on = false;
    return { intervals: log.intervals, work: log.work };
  });
}

/** The f-quantile (0..1) of a list of numbers. */
export function quantile(values: readonly number[], f: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(f * (sorted.length - 1))] ?? NaN;
}

/** "p50 1.2 ms, p95 3.4 ms, max 5.6 ms" */
export function describeTimes(values: readonly number[]): string {
  const f = (x: number) => x.toFixed(1);
  return `p50 ${f(quantile(values, 0.5))} ms, p95 ${f(quantile(values, 0.95))} ms, max ${f(quantile(values, 1))} ms`;
}

export function mib(bytes: number): string {
  return (bytes / 2 ** 20).toFixed(2);
}

/** Wheel zooms with the pointer where it is: in for the first half of `steps`, out for the rest. */
export async function zoomRound(page: Page, steps: number, delta = 150): Promise<void> {
  for (let k = 0; k < steps; k++) {
    await page.mouse.wheel(0, k < steps / 2 ? -delta : delta);
    await page.waitForTimeout(12);
  }
}

/** Drags across the detail map: `steps` moves of `dx` CSS pixels, pointer held down. */
export async function dragPan(page: Page, steps: number, dx: number): Promise<void> {
  const box = (await page.locator(DETAIL).boundingBox())!;
  const y = box.y + box.height * 0.6;
  let x = box.x + box.width / 2 - (steps * dx) / 2;
  await page.mouse.move(x, y);
  await page.mouse.down();
  for (let k = 0; k < steps; k++) {
    x += dx;
    await page.mouse.move(x, y);
    await page.waitForTimeout(12);
  }
  await page.mouse.up();
}
