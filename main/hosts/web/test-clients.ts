// Test support for the browser UI host: a host on a throwaway renderer folder, and the
// well-behaved clients (an HTTP GET, a `ws` WebSocket, one contract call) the tests drive it with.
import { mkdir, writeFile } from 'node:fs/promises';
import http from 'node:http';
import WebSocket from 'ws';
import { WS_PATH, type WsServerMessage } from '../../../shared/ipc.ts';
import { tempDir } from '../../temp-dir.ts';
import { startUiHost, type UiHost, type UiHostOptions } from './index.ts';

export interface TestHost {
  host: UiHost;
  /** http://127.0.0.1:<port> */
  base: string;
  close(): Promise<void>;
}

export async function startTestHost(options: UiHostOptions = {}): Promise<TestHost> {
  const { dir, cleanup } = tempDir('bs-web-');
  await mkdir(`${dir}/assets`);
  await writeFile(`${dir}/index.html`, '<!doctype html><title>t</title>');
  await writeFile(`${dir}/assets/app.js`, 'console.log(1)');
  const host = await startUiHost({ rendererDir: dir, stateDir: null, log: () => {}, ...options });
  return {
    host,
    base: new URL(host.url).origin,
    async close() {
      await host.close();
      cleanup();
    },
  };
}

export interface GetResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A GET with full control of the headers (fetch will not send a forged Host). */
export function httpGet(base: string, pathAndQuery: string, headers: Record<string, string> = {}): Promise<GetResult> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${base}${pathAndQuery}`, { headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
  });
}

export function connectWs(base: string, options: { token?: string; origin?: string }): Promise<WebSocket> {
  const url = `${base.replace('http', 'ws')}${WS_PATH}${options.token ? `?token=${options.token}` : ''}`;
  const ws = new WebSocket(url, { origin: options.origin ?? base });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

export function invoke(ws: WebSocket, id: number, channel: string, request: unknown): Promise<WsServerMessage> {
  return new Promise((resolve) => {
    const onMessage = (data: WebSocket.RawData) => {
      const msg = JSON.parse(String(data)) as WsServerMessage;
      if (msg.kind === 'result' && msg.id === id) {
        ws.off('message', onMessage);
        resolve(msg);
      }
    };
    ws.on('message', onMessage);
    ws.send(JSON.stringify({ kind: 'invoke', id, channel, request }));
  });
}
