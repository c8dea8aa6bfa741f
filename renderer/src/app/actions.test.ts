import { beforeEach, describe, expect, it } from 'vitest';
import type { ChainConfig } from '../../../shared/chain-config.ts';
import { IpcError, type IpcChannel, type ImageSummary } from '../../../shared/ipc.ts';
import { useApp } from '../store/store.ts';
import { setTransport } from '../transport/index.ts';
import { EventHub, type Transport } from '../transport/transport.ts';
import { applyChain, openTyped, startServing } from './actions.ts';

const config: ChainConfig = { plugin: { name: 'file', params: { file: '/x.img' } }, filters: [{ name: 'cow', params: {}, enabled: false }] };
const image: ImageSummary = {
  id: 'a', title: 'x.img', path: '/x.img', demo: false, format: 'raw', size: 1 << 20, onDiskSize: 0, chain: config, chainLabel: 'file',
  partitionScheme: 'none', partitions: [], warnings: [], totals: { data: 0, zero: 0, hole: 1 << 20, holeUndefined: 0, unknown: 0 },
  scan: { done: 1 << 20, total: 1 << 20, complete: true },
};

/** A transport answering from a table; records every call. */
function fake(answers: Partial<Record<IpcChannel, (req: unknown) => unknown>>) {
  const calls: [string, unknown][] = [];
  const hub = new EventHub();
  const t: Transport = {
    host: 'web',
    invoke: async (channel, request) => {
      calls.push([channel, request]);
      const f = answers[channel];
      if (!f) throw new Error(`unexpected ${channel}`);
      return f(request) as never;
    },
    on: (e, l) => hub.on(e, l),
    onConnection: () => () => {},
  };
  setTransport(t);
  return calls;
}

beforeEach(() => {
  useApp.setState({ images: [], activeId: null, confirmation: null, error: null, chains: {}, settingsEdits: {}, status: { running: false, exports: [] } });
});

describe('applyChain', () => {
  it('asks for confirmation when the engine says unsaved data would be lost', async () => {
    fake({
      'chain.set': () => {
        throw new IpcError({ code: 'needs-confirmation', message: 'cow holds unsaved writes', filters: ['cow'] });
      },
    });
    await applyChain('a', config);
    expect(useApp.getState().confirmation).toEqual({ imageId: 'a', config, filters: ['cow'] });
    expect(useApp.getState().error).toBeNull();
  });

  it('resends with force and clears the question once confirmed', async () => {
    const calls = fake({
      'chain.set': () => ({ imageId: 'a', config, label: 'file', unsavedFilters: [] }),
      'images.get': () => image,
    });
    useApp.getState().askConfirmation({ imageId: 'a', config, filters: ['cow'] });
    await applyChain('a', config, { force: true });
    expect(calls[0]).toEqual(['chain.set', { imageId: 'a', config, force: true }]);
    expect(useApp.getState().confirmation).toBeNull();
  });
});

describe('openTyped', () => {
  it('opens nbd:// text as a URI and anything else as a path', async () => {
    const calls = fake({ 'images.open': () => image, 'images.recent': () => [] });
    await openTyped(' nbd://127.0.0.1:10809/disk ');
    await openTyped('/srv/x.img');
    expect(calls.filter(([c]) => c === 'images.open').map(([, r]) => r)).toEqual([{ uri: 'nbd://127.0.0.1:10809/disk' }, { path: '/srv/x.img' }]);
    expect(useApp.getState().activeId).toBe('a');
  });
});

describe('startServing', () => {
  it('sends the typed settings, with an empty port meaning any free port', async () => {
    const calls = fake({ 'server.start': () => ({ running: true, exports: [] }) });
    useApp.getState().editSettings('a', { port: '', exportName: 'disk', writable: true, socketPath: '' });
    await startServing('a');
    expect(calls[0]).toEqual(['server.start', { imageId: 'a', host: '127.0.0.1', port: 0, exportName: 'disk', writable: true, tls: { mode: 'off' } }]);
  });

  it('sends the TLS mode with the credentials of the kind chosen, an empty file left for the engine to name', async () => {
    const calls = fake({ 'server.start': () => ({ running: true, exports: [] }) });
    useApp.getState().editSettings('a', { tlsMode: 'require', tlsKind: 'psk', pskFile: ' /s/keys.psk ', certificates: '/s/server' });
    await startServing('a');
    useApp.getState().editSettings('a', { tlsMode: 'on', tlsKind: 'x509', certificates: '', verifyPeer: true });
    await startServing('a');
    expect(calls.map((c) => (c[1] as { tls: unknown }).tls)).toEqual([{ mode: 'require', pskFile: '/s/keys.psk' }, { mode: 'on', verifyPeer: true }]);
  });

  it('reports a bad port without calling the engine', async () => {
    const calls = fake({});
    useApp.getState().editSettings('a', { port: 'http' });
    await startServing('a');
    expect(calls).toEqual([]);
    expect(useApp.getState().error?.message).toMatch(/not a port/);
  });

  it('serves a newly opened image read-only whatever the last one was served as', async () => {
    const calls = fake({ 'server.start': () => ({ running: true, exports: [] }) });
    useApp.getState().editSettings('a', { writable: true, exportName: 'first' });
    await startServing('b');
    expect(calls[0]).toEqual(['server.start', { imageId: 'b', host: '127.0.0.1', port: 10809, writable: false, tls: { mode: 'off' } }]);
  });

  it('joins the running server where it listens instead of moving it', async () => {
    const calls = fake({ 'server.start': () => ({ running: true, exports: [] }) });
    useApp.getState().setStatus({ running: true, host: '127.0.0.1', port: 41234, exports: [{ imageId: 'a', exportName: '', writable: false, uri: 'nbd://127.0.0.1:41234/' }] });
    await startServing('b');
    expect(calls[0]).toMatchObject(['server.start', { imageId: 'b', port: 41234 }]);
  });
});

describe('the error banner', () => {
  it('goes once the action that failed succeeds, and stays for another action\'s success', async () => {
    let refuse = true;
    fake({
      'chain.set': () => {
        if (refuse) throw new IpcError({ code: 'invalid-input', message: 'partition: a partition number is required' });
        return { imageId: 'a', config, label: 'file', unsavedFilters: [] };
      },
      'images.get': () => image,
      'server.start': () => ({ running: true, exports: [] }),
    });
    await applyChain('a', config);
    expect(useApp.getState().error?.message).toMatch(/^Changing the chain: partition/);
    await startServing('a');
    expect(useApp.getState().error).not.toBeNull();
    refuse = false;
    await applyChain('a', config);
    expect(useApp.getState().error).toBeNull();
  });

  it('is not used for a refusal the caller shows beside the value', async () => {
    fake({
      'chain.set': () => {
        throw new IpcError({ code: 'invalid-input', message: 'there is no partition 9' });
      },
    });
    expect(await applyChain('a', config, { inline: true })).toBe('there is no partition 9');
    expect(useApp.getState().error).toBeNull();
  });
});
