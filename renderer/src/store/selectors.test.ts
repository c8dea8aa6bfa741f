// Scan progress must re-render only what shows progress (the map's pill and the status bar).
// A component re-renders when its selection changes (Object.is, or shallow for the selectors
// read through useShallow); these tests run the selections the components make through a
// stream of progress events and check that only the scan's changed.
import { describe, expect, it } from 'vitest';
import { shallow } from 'zustand/shallow';
import type { ImageSummary } from '../../../shared/ipc.ts';
import { exportOf } from './server-slice.ts';
import {
  imageById,
  selectActiveId,
  selectBackingSeen,
  selectChainLabel,
  selectChainOf,
  selectExport,
  selectImageFacts,
  selectImageIds,
  selectLayers,
  selectPartitions,
  selectScan,
  selectSize,
  selectTabLabel,
  selectTitle,
} from './selectors.ts';
import { createAppStore, type AppState } from './store.ts';

const GiB = 2 ** 30;

function image(id: string): ImageSummary {
  return {
    id, title: `${id}.qcow2`, path: `/srv/${id}.qcow2`, demo: false, format: 'qcow2', size: 8 * GiB, onDiskSize: GiB,
    chain: { plugin: { name: 'file', params: { file: `/srv/${id}.qcow2` } }, filters: [] }, chainLabel: 'file',
    partitionScheme: 'gpt', partitions: [{ number: 1, start: 2 ** 20, length: GiB, typeName: 'Linux filesystem', name: 'root' }] as ImageSummary['partitions'],
    layers: [{ depth: 1, path: `/srv/${id}.qcow2`, format: 'qcow2', size: GiB, summary: '' }] as ImageSummary['layers'],
    warnings: [], totals: { data: GiB, zero: 0, hole: 0, holeUndefined: 0, unknown: 7 * GiB, backing: [] },
    scan: { done: GiB, total: 8 * GiB, complete: false },
  };
}

/** Every selection a component makes that must hold still through progress, by component. */
function steadySelections(s: AppState, id: string): Record<string, unknown> {
  return {
    'App activeId': selectActiveId(s),
    'App error': s.error,
    'Tabs ids': selectImageIds(s),
    'Tab label': selectTabLabel(s, id),
    'FilterSidebar chain': selectChainOf(s, id),
    'FilterSidebar chainLabel': selectChainLabel(s, id),
    'FilterSidebar components': s.components,
    'InfoPanel facts': selectImageFacts(s, id),
    'MapPanel size': selectSize(s, id),
    'MapPanel view': s.views[id],
    'ExportMenu title': selectTitle(s, id),
    'Legend layers': selectLayers(s, id),
    'Legend backing seen': selectBackingSeen(s, id),
    'HoverReadout partitions': selectPartitions(s, id),
    'HoverReadout hover': s.hover,
    'HexView selected': s.selected,
    'ServePanel running': exportOf(s.status, id),
    'ServePanel export': selectExport(s, id),
    'ServePanel clients': s.clients,
    'StatsPanel clients': s.clientStats[id],
    'Toolbar recent': s.recent,
  };
}

function progress(store: ReturnType<typeof createAppStore>, id: string, done: number, complete = false) {
  store.getState().setScan(id, { done, total: 8 * GiB, complete });
}

describe('scan progress', () => {
  it('changes no selection of the panels that do not show it', () => {
    const store = createAppStore();
    store.getState().upsertImage(image('a'));
    store.getState().upsertImage(image('b'));
    store.getState().setActive('a');
    const before = steadySelections(store.getState(), 'a');
    for (let k = 2; k < 8; k++) progress(store, 'a', k * GiB);
    progress(store, 'b', 3 * GiB);
    const after = steadySelections(store.getState(), 'a');
    for (const name of Object.keys(before)) expect(shallow(after[name], before[name]), name).toBe(true);
  });

  it('keeps the partition table of a summary refreshed during the scan when it reads the same (a new one repaints each map)', () => {
    const store = createAppStore();
    store.getState().upsertImage(image('a'));
    const before = selectPartitions(store.getState(), 'a');
    // What the renderer's summary refresh brings twice a second: a fresh copy, its totals moved on.
    const fresh = { ...structuredClone(image('a')), totals: { ...image('a').totals, data: 2 * GiB, unknown: 6 * GiB } };
    store.getState().upsertImage(fresh);
    expect(selectPartitions(store.getState(), 'a')).toBe(before);
    expect(imageById(store.getState(), 'a')?.totals.data).toBe(2 * GiB);
    // A table that did change (a partition written by a client) is taken.
    const grown = structuredClone(fresh);
    grown.partitions[0]!.length = 2 * GiB;
    store.getState().upsertImage(grown);
    expect(selectPartitions(store.getState(), 'a')).not.toBe(before);
    expect(selectPartitions(store.getState(), 'a')?.[0]?.length).toBe(2 * GiB);
  });

  it('changes the selection of what shows it', () => {
    const store = createAppStore();
    store.getState().upsertImage(image('a'));
    const before = selectScan(store.getState(), 'a');
    progress(store, 'a', 2 * GiB);
    expect(selectScan(store.getState(), 'a')).not.toBe(before);
    expect(selectScan(store.getState(), 'a')?.done).toBe(2 * GiB);
  });

  it('reaches the info panel once, when the scan completes (its layer table waits for it)', () => {
    const store = createAppStore();
    store.getState().upsertImage(image('a'));
    const before = selectImageFacts(store.getState(), 'a');
    progress(store, 'a', 8 * GiB, true);
    const after = selectImageFacts(store.getState(), 'a');
    expect(shallow(after, before)).toBe(false);
    expect(after?.scanComplete).toBe(true);
  });
});
