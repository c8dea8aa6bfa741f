import { describe, expect, it } from 'vitest';
import type { ImageSummary, MapBins } from '../../../shared/ipc.ts';
import { createAppStore } from '../store/store.ts';
import { EventHub, type Transport } from '../transport/transport.ts';
import type { BinCounts } from './bins.ts';
import { MapController, type MapInput, type MapMode, type MapSurface } from './MapController.ts';
import type { View } from './viewport.ts';

const MiB = 2 ** 20;
const tick = () => new Promise((r) => setTimeout(r, 0));

function image(over: Partial<ImageSummary> = {}): ImageSummary {
  return {
    id: 'a', title: 'a.img', demo: false, format: 'raw', size: 64 * MiB, onDiskSize: 0,
    chain: { plugin: { name: 'file', params: {} }, filters: [] }, chainLabel: 'file',
    partitionScheme: 'none', partitions: [], warnings: [],
    totals: { data: 0, zero: 0, hole: 0, holeUndefined: 0, unknown: 64 * MiB },
    scan: { done: 0, total: 64 * MiB, complete: false },
    ...over,
  };
}

/** A transport answering map.bins with empty counts, recording each request. */
function fakeTransport() {
  const hub = new EventHub();
  const asked: { start: number; end: number; bins: number }[] = [];
  const transport: Pick<Transport, 'invoke' | 'on'> = {
    invoke: async (channel, request) => {
      if (channel !== 'map.bins') throw new Error(`unexpected ${channel}`);
      const r = request as { imageId: string; start: number; end: number; bins: number };
      asked.push({ start: r.start, end: r.end, bins: r.bins });
      const reply: MapBins = { ...r, counts: new Array(r.bins * 5).fill(0), version: 1 };
      return reply as never;
    },
    on: (event, listener) => hub.on(event, listener),
  };
  return { transport, hub, asked };
}

/** A surface that records what it was told: 100 device pixels wide. */
class FakeSurface implements MapSurface {
  deviceWidth = 100;
  views: View[] = [];
  windows: (View | null)[] = [];
  bins: BinCounts[] = [];
  partitions: unknown[] = [];
  disposed = false;
  constructor(readonly input: MapInput) {}
  setView(v: View) { this.views.push(v); }
  setWindow(w: View | null) { this.windows.push(w); }
  setBins(b: BinCounts) { this.bins.push(b); }
  setPartitions(p: readonly unknown[]) { this.partitions.push(p); }
  dispose() { this.disposed = true; }
}

function setup(mode: MapMode = 'detail') {
  const store = createAppStore();
  store.getState().upsertImage(image());
  const t = fakeTransport();
  const widths: number[] = [];
  const controller = new MapController({
    imageId: 'a', mode, store, transport: t.transport,
    createSurface: (input) => new FakeSurface(input),
    onDeviceWidth: (w) => widths.push(w),
  });
  return { store, controller, surface: controller.surface, widths, ...t };
}

describe('MapController', () => {
  it('asks for one bin per device pixel of the view and hands the answer to the surface', async () => {
    const { surface, asked, widths } = setup();
    expect(asked).toEqual([{ start: 0, end: 64 * MiB, bins: 100 }]);
    expect(surface.views).toEqual([{ start: 0, end: 64 * MiB }]);
    expect(widths).toEqual([100]);
    await tick();
    expect(surface.bins.map((b) => [b.start, b.end, b.count])).toEqual([[0, 64 * MiB, 100]]);
  });

  it('follows the store’s view: a zoom shows the new range and asks for its bins', async () => {
    const { store, surface, asked } = setup();
    await tick();
    store.getState().zoom('a', 0.5, 0.5);
    expect(surface.views.at(-1)).toEqual({ start: 16 * MiB, end: 48 * MiB });
    expect(asked.at(-1)).toEqual({ start: 16 * MiB, end: 48 * MiB, bins: 100 });
  });

  it('asks again when the image’s size changes, and not for other changes', async () => {
    const { store, asked } = setup();
    await tick();
    store.getState().upsertImage(image({ title: 'renamed' }));
    expect(asked).toHaveLength(1);
    store.getState().upsertImage(image({ size: 32 * MiB }));
    expect(asked.at(-1)).toEqual({ start: 0, end: 32 * MiB, bins: 100 });
  });

  it('follows the disk when a filter changes its size after the view was set, and back', async () => {
    const { store, surface, asked } = setup();
    await tick();
    store.getState().zoom('a', 0.5, 0.5);
    await tick();
    store.getState().resetView('a');
    await tick();
    store.getState().upsertImage(image({ size: 16 * MiB }));
    expect(surface.views.at(-1)).toEqual({ start: 0, end: 16 * MiB });
    expect(asked.at(-1)).toEqual({ start: 0, end: 16 * MiB, bins: 100 });
    await tick();
    store.getState().setImages([image({ size: 64 * MiB })]);
    expect(asked.at(-1)).toEqual({ start: 0, end: 64 * MiB, bins: 100 });
  });

  it('moves the overview’s window with the disk’s new size', () => {
    const { store, surface } = setup('overview');
    store.getState().zoom('a', 1, 0.25); // [48 MiB, 64 MiB)
    store.getState().upsertImage(image({ size: 32 * MiB }));
    expect(surface.views.at(-1)).toEqual({ start: 0, end: 32 * MiB });
    expect(surface.windows.at(-1)).toEqual({ start: 16 * MiB, end: 32 * MiB });
  });

  it('refetches the view when a scan ends and on writes inside it, not on writes elsewhere', async () => {
    const { store, hub, asked } = setup();
    await tick();
    store.getState().zoom('a', 0, 0.25); // [0, 16 MiB)
    await tick();
    const before = asked.length;
    hub.emit('map.changed', { imageId: 'a', ranges: [[32 * MiB, 33 * MiB]], version: 2 });
    hub.emit('map.changed', { imageId: 'b', ranges: [[0, MiB]], version: 2 });
    expect(asked).toHaveLength(before);
    hub.emit('map.changed', { imageId: 'a', ranges: [[MiB, 2 * MiB]], version: 3 });
    expect(asked).toHaveLength(before + 1);
    await tick();
    // Progress alone asks nothing (its ranges come as map.changed); the scan's end does.
    hub.emit('map.scanProgress', { imageId: 'a', done: MiB, total: 64 * MiB, complete: false });
    expect(asked).toHaveLength(before + 1);
    hub.emit('map.scanProgress', { imageId: 'a', done: 64 * MiB, total: 64 * MiB, complete: true });
    expect(asked).toHaveLength(before + 2);
    expect(asked.at(-1)).toEqual({ start: 0, end: 16 * MiB, bins: 100 });
  });

  it('asks again after a resize and tells the owner the new width', async () => {
    const { surface, asked, widths } = setup();
    await tick();
    surface.deviceWidth = 250;
    surface.input.onResize();
    expect(asked.at(-1)).toEqual({ start: 0, end: 64 * MiB, bins: 250 });
    expect(widths).toEqual([100, 250]);
  });

  it('turns gestures on the detail map into store actions', () => {
    const { store, surface } = setup();
    surface.input.onZoom!(0, 0.5);
    expect(store.getState().viewOf('a')).toEqual({ start: 0, end: 32 * MiB });
    surface.input.onPan!(0.5);
    expect(store.getState().viewOf('a')).toEqual({ start: 16 * MiB, end: 48 * MiB });
    surface.input.onClick(20 * MiB);
    expect(store.getState().selected).toEqual({ imageId: 'a', offset: 20 * MiB });
  });

  it('shows the whole disk on the overview, with the detail view as its window; a click centres the view', () => {
    const { store, surface, asked } = setup('overview');
    store.getState().zoom('a', 0, 0.25);
    expect(surface.views.at(-1)).toEqual({ start: 0, end: 64 * MiB });
    expect(surface.windows.at(-1)).toEqual({ start: 0, end: 16 * MiB });
    expect(asked.every((w) => w.start === 0 && w.end === 64 * MiB)).toBe(true);
    surface.input.onClick(40 * MiB);
    expect(store.getState().viewOf('a')).toEqual({ start: 32 * MiB, end: 48 * MiB });
    expect(surface.input.onZoom).toBeUndefined();
  });

  it('passes new partitions on, and stops asking once the image is closed', async () => {
    const { store, surface, asked } = setup();
    await tick();
    const partitions = [{ number: 1, start: MiB, length: MiB, typeName: 'Linux', name: '' }] as ImageSummary['partitions'];
    store.getState().upsertImage(image({ partitions }));
    expect(surface.partitions.at(-1)).toBe(partitions);
    const before = asked.length;
    store.getState().removeImage('a');
    expect(asked).toHaveLength(before);
  });

  it('lets go of the store, the events and the surface when disposed', async () => {
    const { store, hub, controller, surface, asked } = setup();
    await tick();
    controller.dispose();
    store.getState().zoom('a', 0.5, 0.5);
    hub.emit('map.scanProgress', { imageId: 'a', done: 2, total: 2, complete: true });
    expect(asked).toHaveLength(1);
    expect(surface.disposed).toBe(true);
  });
});
