// The browser host's WebSocket protocol without the socket: pairs invoke ids with results and
// routes events, so its logic runs (and is tested) without a network.
import {
  IpcError,
  isIpcEventName,
  unwrapResult,
  type IpcChannel,
  type IpcResponse,
  type IpcResult,
  type WsInvoke,
  type WsServerMessage,
} from '../../../shared/ipc.ts';
import type { EventHub } from './transport.ts';

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

export class RpcClient {
  private nextId = 1;
  private pending = new Map<number, Pending>();

  constructor(
    private readonly send: (message: WsInvoke) => void,
    private readonly events: EventHub,
  ) {}

  invoke<C extends IpcChannel>(channel: C, request: unknown): Promise<IpcResponse<C>> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      try {
        this.send({ kind: 'invoke', id, channel, request });
      } catch (e) {
        this.pending.delete(id);
        reject(e as Error);
      }
    });
  }

  /** Feeds one message from the host; malformed ones are dropped with a console note. */
  receive(text: string): void {
    let message: WsServerMessage;
    try {
      message = JSON.parse(text) as WsServerMessage;
    } catch {
      console.warn('blockscope: dropped a message that is not JSON');
      return;
    }
    if (message.kind === 'result') {
      const p = this.pending.get(message.id);
      if (!p) return;
      this.pending.delete(message.id);
      try {
        p.resolve(unwrapResult(message.result as IpcResult<unknown>));
      } catch (e) {
        p.reject(e as Error);
      }
    } else if (message.kind === 'event' && isIpcEventName(message.event)) {
      this.events.emit(message.event, message.payload);
    }
  }

  /** The socket went away: every call still waiting fails now rather than hanging. */
  failAll(reason: string): void {
    for (const p of this.pending.values()) p.reject(new IpcError({ code: 'failed', message: reason }));
    this.pending.clear();
  }

  get waiting(): number {
    return this.pending.size;
  }
}
