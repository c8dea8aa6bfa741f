import { describe, expect, it } from 'vitest';
import { IpcError, type WsInvoke } from '../../../shared/ipc.ts';
import { RpcClient } from './rpc-client.ts';
import { EventHub } from './transport.ts';
import { webSocketUrl } from './web.ts';

function client() {
  const sent: WsInvoke[] = [];
  const hub = new EventHub();
  return { sent, hub, rpc: new RpcClient((m) => sent.push(m), hub) };
}

describe('RpcClient', () => {
  it('resolves a call with the value of the result carrying its id', async () => {
    const { sent, rpc } = client();
    const p = rpc.invoke('server.status', {});
    rpc.receive(JSON.stringify({ kind: 'result', id: sent[0]!.id, result: { ok: true, value: { running: false, exports: [] } } }));
    await expect(p).resolves.toEqual({ running: false, exports: [] });
  });

  it('rejects with an IpcError keeping the error code', async () => {
    const { sent, rpc } = client();
    const p = rpc.invoke('images.get', { imageId: 'x' });
    rpc.receive(JSON.stringify({ kind: 'result', id: sent[0]!.id, result: { ok: false, error: { code: 'not-found', message: 'no image x' } } }));
    await expect(p).rejects.toMatchObject({ code: 'not-found', message: 'no image x' });
  });

  it('routes events to their listeners only', () => {
    const { hub, rpc } = client();
    const got: unknown[] = [];
    hub.on('server.log', (p) => got.push(p));
    rpc.receive(JSON.stringify({ kind: 'event', event: 'server.log', payload: { t: 1, line: 'hi' } }));
    rpc.receive(JSON.stringify({ kind: 'event', event: 'server.clients', payload: [] }));
    expect(got).toEqual([{ t: 1, line: 'hi' }]);
  });

  it('fails every waiting call when the socket closes', async () => {
    const { rpc } = client();
    const p = rpc.invoke('app.info', {});
    rpc.failAll('gone');
    await expect(p).rejects.toBeInstanceOf(IpcError);
    expect(rpc.waiting).toBe(0);
  });
});

describe('webSocketUrl', () => {
  it('carries the page token to the IPC path', () => {
    expect(webSocketUrl({ protocol: 'http:', host: '127.0.0.1:4000', search: '?token=a%2Bb' })).toBe('ws://127.0.0.1:4000/ipc?token=a%2Bb');
  });
});
