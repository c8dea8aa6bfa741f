import { describe, expect, it } from 'vitest';
import type { MapBins } from '../../../shared/ipc.ts';
import { BinsLoader, touches, type BinsWanted } from './bins-loader.ts';

function deferredFetch() {
  const calls: { wanted: BinsWanted; resolve: (r: MapBins) => void }[] = [];
  const fetch = (wanted: BinsWanted) => new Promise<MapBins>((resolve) => calls.push({ wanted, resolve }));
  const reply = (w: BinsWanted): MapBins => ({ ...w, counts: [], version: 1 });
  return { calls, fetch, reply };
}

const tick = () => new Promise((r) => setTimeout(r, 0));
const view = (start: number, end: number): BinsWanted => ({ imageId: 'a', start, end, bins: 10 });

describe('BinsLoader', () => {
  it('fetches the wanted view and hands over the answer', async () => {
    const f = deferredFetch();
    const got: MapBins[] = [];
    const l = new BinsLoader(f.fetch, (r) => got.push(r));
    l.want(view(0, 100));
    f.calls[0]!.resolve(f.reply(view(0, 100)));
    await tick();
    expect(got.map((r) => r.end)).toEqual([100]);
  });

  it('keeps one request in flight and skips views superseded meanwhile', async () => {
    const f = deferredFetch();
    const got: number[] = [];
    const l = new BinsLoader(f.fetch, (r) => got.push(r.end));
    l.want(view(0, 100));
    l.want(view(0, 200));
    l.want(view(0, 300));
    expect(f.calls).toHaveLength(1);
    f.calls[0]!.resolve(f.reply(view(0, 100)));
    await tick();
    expect(f.calls.map((c) => c.wanted.end)).toEqual([100, 300]);
    f.calls[1]!.resolve(f.reply(view(0, 300)));
    await tick();
    expect(got).toEqual([300]);
  });

  it('does not refetch an unchanged view, but does on refresh', async () => {
    const f = deferredFetch();
    const l = new BinsLoader(f.fetch, () => {});
    l.want(view(0, 100));
    f.calls[0]!.resolve(f.reply(view(0, 100)));
    await tick();
    l.want(view(0, 100));
    expect(f.calls).toHaveLength(1);
    l.refresh();
    expect(f.calls).toHaveLength(2);
  });
});

describe('touches', () => {
  it('sees overlap but not adjacency', () => {
    expect(touches([[100, 200]], 150, 300)).toBe(true);
    expect(touches([[100, 200]], 200, 300)).toBe(false);
  });
});
