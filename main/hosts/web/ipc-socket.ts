// One page's WebSocket carrying the IPC contract: invoke messages in, results and events out,
// through an RpcGate so a page that never reads cannot grow our memory. Whatever a page
// sends, the worst it can do is get its own socket closed.
import type { RawData, WebSocket } from 'ws';
import { wsInvokeSchema, type WsServerMessage } from '../../../shared/ipc.ts';
import { dispatch, type Handlers } from '../../services/handlers.ts';
import { RpcGate, type GateLimits } from './rpc-gate.ts';

export function serveIpcSocket(ws: WebSocket, handlers: Handlers, log: (line: string) => void, limits?: GateLimits): RpcGate {
  const gate = new RpcGate(ws, (err) => log(`ui: websocket reply failed: ${(err as Error).message}`), limits);
  // ws has already closed the socket (with 1002, 1007 or 1009 for a bad frame) when this fires;
  // without a listener the 'error' event would throw and end the whole host.
  ws.on('error', (err) => log(`ui: websocket closed: ${err.message}`));
  ws.on('close', () => gate.shut());
  ws.on('message', (data, isBinary) => onMessage(ws, gate, handlers, data, isBinary));
  return gate;
}

function onMessage(ws: WebSocket, gate: RpcGate, handlers: Handlers, data: RawData, isBinary: boolean): void {
  if (isBinary) return void ws.close(1003, 'text frames only');
  let message: unknown;
  try {
    message = JSON.parse(String(data));
  } catch {
    return void ws.close(1007, 'not JSON');
  }
  const parsed = wsInvokeSchema.safeParse(message);
  if (!parsed.success) return void ws.close(1008, 'not an invoke message');
  const { id, channel, request } = parsed.data;
  gate.submit(async () => {
    const result = await dispatch(handlers, channel, request);
    return JSON.stringify({ kind: 'result', id, result } satisfies WsServerMessage);
  });
}
