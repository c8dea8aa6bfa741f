// The browser host's wire protocol: the same channels and events as JSON messages over one
// WebSocket at WS_PATH. Calls carry an id that pairs them with their result envelope.
import { z } from 'zod';
import type { IpcChannel } from './channels.ts';
import type { IpcEventName } from './events.ts';
import type { IpcResult } from './result.ts';

/** The WebSocket path of the browser host; the token goes in the query (?token=...). */
export const WS_PATH = '/ipc';

/** Renderer -> browser host. `id` pairs the reply with the call. */
export interface WsInvoke {
  kind: 'invoke';
  id: number;
  channel: IpcChannel;
  request: unknown;
}

/** Browser host -> renderer. */
export type WsServerMessage =
  | { kind: 'result'; id: number; result: IpcResult<unknown> }
  | { kind: 'event'; event: IpcEventName; payload: unknown };

export const wsInvokeSchema = z.object({
  kind: z.literal('invoke'),
  id: z.number().int().min(0),
  channel: z.string().max(64),
  request: z.unknown(),
}).strict();
