// Electron: the preload's named functions on window.blockscope, one per channel.
import { channelFunction, unwrapResult, type BlockscopeApi, type IpcChannel, type IpcRequest, type IpcResponse } from '../../../shared/ipc.ts';
import type { ConnectionState, Transport } from './transport.ts';

export class ElectronTransport implements Transport {
  readonly host = 'electron' as const;

  constructor(private readonly api: BlockscopeApi) {}

  async invoke<C extends IpcChannel>(channel: C, request: IpcRequest<C>): Promise<IpcResponse<C>> {
    const fn = channelFunction(this.api, channel);
    if (!fn) throw new Error(`the preload does not expose ${channel}`);
    return unwrapResult(await fn(request));
  }

  on: Transport['on'] = (event, listener) => this.api.on(event, listener);

  onConnection(listener: (state: ConnectionState) => void): () => void {
    listener('open');
    return () => {};
  }
}
