// What the UI talks to: the typed contract of shared/ipc.ts, whichever host carries it.
import type { IpcChannel, IpcEventName, IpcEvents, IpcRequest, IpcResponse } from '../../../shared/ipc.ts';

export type ConnectionState = 'connecting' | 'open' | 'closed';

export interface Transport {
  readonly host: 'electron' | 'web';
  invoke<C extends IpcChannel>(channel: C, request: IpcRequest<C>): Promise<IpcResponse<C>>;
  on<E extends IpcEventName>(event: E, listener: (payload: IpcEvents[E]) => void): () => void;
  onConnection(listener: (state: ConnectionState) => void): () => void;
}

/** Listener lists per event, shared by both transports. */
export class EventHub {
  private listeners = new Map<string, Set<(payload: never) => void>>();

  on<E extends IpcEventName>(event: E, listener: (payload: IpcEvents[E]) => void): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(listener as (payload: never) => void);
    return () => set.delete(listener as (payload: never) => void);
  }

  emit(event: IpcEventName, payload: unknown): void {
    for (const l of this.listeners.get(event) ?? []) {
      try {
        (l as (p: unknown) => void)(payload);
      } catch (e) {
        console.error(`blockscope: a listener of ${event} failed`, e);
      }
    }
  }
}
