// Electron: the preload's named functions on window.blockscope, one per channel.
import { apiNameOf, unwrapResult, type BlockscopeApi, type IpcChannel, type IpcRequest, type IpcResponse, type IpcResult } from '../../../shared/ipc.ts';
import type { ConnectionState, Transport } from './transport.ts';

export class ElectronTransport implements Transport {
  readonly host = 'electron' as const;

  constructor(private readonly api: BlockscopeApi) {}

  async invoke<C extends IpcChannel>(channel: C, request: IpcRequest<C>): Promise<IpcResponse<C>> {
    // The mapped API type cannot be indexed generically; the contract guarantees the shape.
    const fn = (this.api as unknown as Record<string, (r: unknown) => Promise<IpcResult<IpcResponse<C>>>>)[apiNameOf(channel)];
    if (!fn) throw new Error(`the preload does not expose ${channel}`);
    return unwrapResult(await fn(request));
  }

  on: Transport['on'] = (event, listener) => this.api.on(event, listener);

  onConnection(listener: (state: ConnectionState) => void): () => void {
    listener('open');
    return () => {};
  }
}
