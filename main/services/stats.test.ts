import { expect, it } from 'vitest';
import { percentile, StatsSampler, type RequestEvent } from './stats.ts';

const request = (over: Partial<RequestEvent>): RequestEvent =>
  ({ connection: 1, exportName: '', op: 'read', offset: 0, length: 4096, latencyMs: 1, ...over });

function clock(start: number) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

it('reports rates per second over the interval', () => {
  const c = clock(1000);
  const s = new StatsSampler(c.now);
  s.sample('img', []);
  for (let i = 0; i < 10; i++) s.record('img', request({ length: 65536 }));
  c.advance(250);
  const sample = s.sample('img', []);
  expect(sample.intervalMs).toBe(250);
  expect(sample.perOp.read.ops).toBe(40);
  expect(sample.perOp.read.bytes).toBe(40 * 65536);
  expect(sample.perOp.write.ops).toBe(0);
});

it('counts failed requests as errors and not as bytes', () => {
  const c = clock(0);
  const s = new StatsSampler(c.now);
  s.record('img', request({ op: 'write', error: 'EIO' }));
  s.record('img', request({ op: 'write' }));
  c.advance(1000);
  const w = s.sample('img', []).perOp.write;
  expect(w.errors).toBe(1);
  expect(w.bytes).toBe(4096);
});

it('gives latency percentiles of the interval and null when idle', () => {
  const c = clock(0);
  const s = new StatsSampler(c.now);
  for (let ms = 1; ms <= 100; ms++) s.record('img', request({ latencyMs: ms }));
  c.advance(1000);
  const first = s.sample('img', []);
  expect([first.perOp.read.p50, first.perOp.read.p99]).toEqual([50, 99]);
  c.advance(1000);
  expect(s.sample('img', []).perOp.read.p50).toBeNull();
});

it('gives each client its request rate next to its running totals', () => {
  const c = clock(0);
  const s = new StatsSampler(c.now);
  s.record('img', request({ connection: 7 }));
  s.record('img', request({ connection: 7 }));
  c.advance(500);
  const conn = { id: 7, remote: '127.0.0.1:5000', requests: 12, bytesRead: 100, bytesWritten: 0 };
  expect(s.sample('img', [conn]).clients).toEqual([{ ...conn, ops: 4 }]);
});

it('takes the nearest-rank percentile', () => {
  expect(percentile(new Float64Array([1, 2, 3, 4]), 0.5)).toBe(2);
  expect(percentile(new Float64Array([]), 0.5)).toBeNull();
});

it('reads a steady 10 requests a second as 10/s whatever the samples’ jitter', () => {
  const c = clock(0);
  const s = new StatsSampler(c.now);
  const readings: number[] = [];
  let nextRequest = 37;
  // Samples every 240..260 ms, requests every 100 ms, for 6 seconds.
  for (let k = 0; k < 24; k++) {
    const sampleAt = (k + 1) * 250 + ((k * 7) % 5) * 5 - 10;
    while (nextRequest <= sampleAt) {
      c.advance(nextRequest - c.now());
      s.record('img', request({}));
      nextRequest += 100;
    }
    c.advance(sampleAt - c.now());
    readings.push(s.sample('img', []).perOp.read.ops);
  }
  // Once the window has filled (2 s), every reading is 10.
  for (const r of readings.slice(8)) expect(r).toBeCloseTo(10, 6);
});

it('falls to zero after a stream stops, and counts bytes over the same window', () => {
  const c = clock(0);
  const s = new StatsSampler(c.now);
  for (let k = 0; k < 20; k++) {
    s.record('img', request({ length: 1000 }));
    c.advance(100);
  }
  const during = s.sample('img', []).perOp.read;
  expect(during.ops).toBeCloseTo(10, 6);
  expect(during.bytes).toBeCloseTo(10_000, 6);
  c.advance(1000);
  expect(s.sample('img', []).perOp.read.ops).toBeLessThan(7);
  c.advance(2000);
  expect(s.sample('img', []).perOp.read.ops).toBe(0);
});
