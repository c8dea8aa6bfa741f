import { describe, expect, it } from 'vitest';
import type { ChainConfig } from '../../../shared/chain-config.ts';
import type { ComponentInfo, ImageSummary } from '../../../shared/ipc.ts';
import { sidebarOrder, withFilterEnabled, withFilterMoved, withFilterParams } from './chain-slice.ts';
import { DEFAULT_SERVE_SETTINGS, exportOf, parsePort, serveFormOf } from './server-slice.ts';
import { createAppStore } from './store.ts';

const MiB = 2 ** 20;

function image(id: string, size = 64 * MiB): ImageSummary {
  return {
    id, title: id, demo: false, format: 'raw', size, onDiskSize: size,
    chain: { plugin: { name: 'file', params: {} }, filters: [] }, chainLabel: 'file',
    partitionScheme: 'none', partitions: [], warnings: [],
    totals: { data: 0, zero: 0, hole: 0, holeUndefined: 0, unknown: size },
    scan: { done: 0, total: size, complete: false },
  };
}

describe('images slice', () => {
  it('activates a newly opened image', () => {
    const s = createAppStore();
    s.getState().upsertImage(image('a'));
    s.getState().upsertImage(image('b'));
    expect(s.getState().activeId).toBe('b');
  });

  it('activates the right neighbour when the active tab closes', () => {
    const s = createAppStore();
    ['a', 'b', 'c'].forEach((id) => s.getState().upsertImage(image(id)));
    s.getState().setActive('b');
    s.getState().removeImage('b');
    expect(s.getState().activeId).toBe('c');
  });

  it('activates the left neighbour when the last tab closes', () => {
    const s = createAppStore();
    ['a', 'b'].forEach((id) => s.getState().upsertImage(image(id)));
    s.getState().removeImage('b');
    expect(s.getState().activeId).toBe('a');
  });

  it('updates an image in place without stealing focus', () => {
    const s = createAppStore();
    ['a', 'b'].forEach((id) => s.getState().upsertImage(image(id)));
    s.getState().upsertImage({ ...image('a'), title: 'renamed' });
    expect(s.getState().images.map((i) => i.title)).toEqual(['renamed', 'b']);
    expect(s.getState().activeId).toBe('b');
  });
});

describe('map slice', () => {
  it('starts each image on the whole disk', () => {
    const s = createAppStore();
    s.getState().upsertImage(image('a'));
    expect(s.getState().viewOf('a')).toEqual({ start: 0, end: 64 * MiB });
  });

  it('zooms one image without touching another', () => {
    const s = createAppStore();
    s.getState().upsertImage(image('a'));
    s.getState().upsertImage(image('b'));
    s.getState().zoom('a', 0, 0.5);
    expect(s.getState().viewOf('a')).toEqual({ start: 0, end: 32 * MiB });
    expect(s.getState().viewOf('b')).toEqual({ start: 0, end: 64 * MiB });
  });

  it('moves a stored whole-disk view onto the new size when a filter changes it, and back', () => {
    const s = createAppStore();
    s.getState().upsertImage(image('a'));
    s.getState().resetView('a');
    s.getState().upsertImage(image('a', 16 * MiB));
    expect(s.getState().viewOf('a')).toEqual({ start: 0, end: 16 * MiB });
    s.getState().setImages([image('a', 64 * MiB)]);
    expect(s.getState().viewOf('a')).toEqual({ start: 0, end: 64 * MiB });
  });

  it('keeps a zoomed view inside a disk that shrank', () => {
    const s = createAppStore();
    s.getState().upsertImage(image('a'));
    s.getState().showRange('a', 40 * MiB, 48 * MiB);
    s.getState().upsertImage(image('a', 32 * MiB));
    expect(s.getState().viewOf('a')).toEqual({ start: 24 * MiB, end: 32 * MiB });
  });

  it('keeps the views object when no size moved', () => {
    const s = createAppStore();
    s.getState().upsertImage(image('a'));
    s.getState().resetView('a');
    const views = s.getState().views;
    s.getState().upsertImage({ ...image('a'), title: 'renamed' });
    expect(s.getState().views).toBe(views);
  });

  it('shows a partition range', () => {
    const s = createAppStore();
    s.getState().upsertImage(image('a'));
    s.getState().showRange('a', MiB, 9 * MiB);
    expect(s.getState().viewOf('a')).toEqual({ start: MiB, end: 9 * MiB });
  });
});

const base: ChainConfig = { plugin: { name: 'file', params: { file: 'x' } }, filters: [{ name: 'cow', params: {}, enabled: true }] };

describe('chain edits', () => {
  it('adds a filter that was not in the chain, innermost', () => {
    expect(withFilterEnabled(base, 'noextents', true).filters.map((f) => f.name)).toEqual(['cow', 'noextents']);
  });

  it('switches a present filter off in place', () => {
    expect(withFilterEnabled(base, 'cow', false).filters).toEqual([{ name: 'cow', params: {}, enabled: false }]);
  });

  it('drops empty parameter values so defaults apply', () => {
    expect(withFilterParams(base, 'cow', { a: '1', b: ' ' }).filters[0]!.params).toEqual({ a: '1' });
  });

  it('moves a filter outward and stops at the edge', () => {
    const two = withFilterEnabled(base, 'delay', true);
    expect(withFilterMoved(two, 'delay', -1).filters.map((f) => f.name)).toEqual(['delay', 'cow']);
    expect(withFilterMoved(two, 'cow', -1)).toBe(two);
  });

  it('lists chain filters in order, then the rest alphabetically', () => {
    const c = (name: string): ComponentInfo => ({ kind: 'filter', name, summary: '', params: [] });
    const order = sidebarOrder(base, [c('rate'), c('cow'), c('delay'), { ...c('file'), kind: 'plugin' }]);
    expect(order.map((x) => x.info.name)).toEqual(['cow', 'delay', 'rate']);
  });
});

describe('serve settings', () => {
  const running = { running: true, host: '127.0.0.1', port: 41234, exports: [{ imageId: 'a', exportName: '', writable: false, readOnlyReason: 'qcow2 is read-only; add the cow filter for writes', uri: 'nbd://127.0.0.1:41234/' }] };

  it('are each image’s own: what was typed for one does not reach another', () => {
    const s = createAppStore();
    s.getState().editSettings('a', { writable: true, exportName: 'disk-a', port: '7000' });
    expect(serveFormOf(s.getState().status, s.getState().settingsEdits.b, 'b')).toEqual(DEFAULT_SERVE_SETTINGS);
    expect(serveFormOf(s.getState().status, s.getState().settingsEdits.a, 'a')).toMatchObject({ writable: true, exportName: 'disk-a', port: '7000' });
  });

  it('show what the server runs for a served image (after a reload too), writes asked for included', () => {
    expect(serveFormOf(running, undefined, 'a')).toEqual({ ...DEFAULT_SERVE_SETTINGS, host: '127.0.0.1', port: '41234', exportName: '', writable: true, socketPath: '' });
  });

  it('show the running server’s TLS, and the user named for the client commands', () => {
    const tls = { mode: 'require' as const, kind: 'psk' as const, pskFile: '/s/tls/psk/keys.psk', pskDir: '/s/tls/psk', pskUsers: ['alice', 'bob'] };
    expect(serveFormOf({ ...running, tls }, undefined, 'a')).toMatchObject({ tlsMode: 'require', tlsKind: 'psk', pskFile: '/s/tls/psk/keys.psk', pskUser: 'alice' });
    expect(serveFormOf({ ...running, tls }, { pskUser: 'bob' }, 'a')).toMatchObject({ pskUser: 'bob' });
    // An image joining the server keeps its TLS (another setting would restart the server).
    expect(serveFormOf({ ...running, tls }, undefined, 'b')).toMatchObject({ tlsMode: 'require', tlsKind: 'psk' });
  });

  it('start from the credentials the app made', () => {
    const made = { certificates: { serverDir: '/s/tls/server', clientDir: '/s/tls/client', caFingerprint: 'AB' }, psk: { dir: '/s/tls/psk', file: '/s/tls/psk/keys.psk', users: ['carol'] } };
    expect(serveFormOf({ running: false, exports: [] }, undefined, 'a', made)).toMatchObject({ tlsMode: 'off', certificates: '/s/tls/server', pskFile: '/s/tls/psk/keys.psk', pskUser: 'carol' });
  });

  it('start an image that is not served on the running server’s address', () => {
    expect(serveFormOf(running, undefined, 'b')).toMatchObject({ host: '127.0.0.1', port: '41234', writable: false });
  });
});

describe('server helpers', () => {
  it('reads an empty port as "pick one"', () => expect(parsePort('')).toBe(0));
  it('refuses a port above 65535', () => expect(() => parsePort('70000')).toThrow(/not a port/));
  it('finds the export of a served image only while running', () => {
    const e = { imageId: 'a', exportName: '', writable: false, uri: 'nbd://127.0.0.1:1/' };
    expect(exportOf({ running: true, exports: [e] }, 'a')).toBe(e);
    expect(exportOf({ running: false, exports: [e] }, 'a')).toBeUndefined();
  });
});
