// The browser UI host: the contract over one WebSocket at WS_PATH, authenticated by the token
// the host printed in the page URL. Reconnects with backoff, because the host outlives tabs
// and a laptop lid close should not need a reload.
import { WS_PATH, type IpcChannel, type IpcRequest, type IpcResponse } from '../../../shared/ipc.ts';
import { RpcClient } from './rpc-client.ts';
import { EventHub, type ConnectionState, type Transport } from './transport.ts';

export function webSocketUrl(location: { protocol: string; host: string; search: string }): string {
  const token = new URLSearchParams(location.search).get('token') ?? '';
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}${WS_PATH}?token=${encodeURIComponent(token)}`;
}

export class WebTransport implements Transport {
  readonly host = 'web' as const;
  private readonly events = new EventHub();
  private readonly connection = new Set<(s: ConnectionState) => void>();
  private socket: WebSocket | null = null;
  private opened: Promise<void> | null = null;
  private readonly rpc: RpcClient;
  private retryMs = 250;

  constructor(private readonly url: string) {
    this.rpc = new RpcClient((m) => this.socket!.send(JSON.stringify(m)), this.events);
    this.connect();
  }

  private connect(): void {
    this.setState('connecting');
    const socket = new WebSocket(this.url);
    this.socket = socket;
    this.opened = new Promise((resolve) => {
      socket.addEventListener('open', () => {
        this.retryMs = 250;
        this.setState('open');
        resolve();
      });
    });
    socket.addEventListener('message', (e) => this.rpc.receive(String(e.data)));
    socket.addEventListener('close', () => {
      this.rpc.failAll('the connection to Blockscope closed');
      this.setState('closed');
      setTimeout(() => this.connect(), this.retryMs);
      this.retryMs = Math.min(5000, this.retryMs * 2);
    });
  }

  private setState(state: ConnectionState): void {
    for (const l of this.connection) l(state);
  }

  async invoke<C extends IpcChannel>(channel: C, request: IpcRequest<C>): Promise<IpcResponse<C>> {
    await this.opened;
    return this.rpc.invoke(channel, request);
  }

  on: Transport['on'] = (event, listener) => this.events.on(event, listener);

  onConnection(listener: (state: ConnectionState) => void): () => void {
    this.connection.add(listener);
    return () => this.connection.delete(listener);
  }
}
