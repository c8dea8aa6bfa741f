// The events: what the engine pushes to the renderer unasked (map changes, scan progress,
// stats, clients, the image list). Each has a payload type; ipcEventNames lists them for the
// hosts and the preload, which forward nothing else.
import type { CommandId } from '../commands.ts';
import type { ImageSummary } from './payloads.ts';
import type { ClientInfo, ServerStatus } from './serving-payloads.ts';
import type { StatsSample } from './stats-payloads.ts';

export interface IpcEvents {
  /** Ranges ([start, end) pairs) whose allocation changed; sent at most a few times a second. */
  'map.changed': { imageId: string; ranges: [number, number][]; version: number };
  'map.scanProgress': { imageId: string; done: number; total: number; complete: boolean; error?: string };
  /** About 4 per second per served image. */
  'stats.sample': StatsSample;
  /** On connect and disconnect, and with the stats samples whenever a client's counters moved. */
  'server.clients': ClientInfo[];
  'server.status': ServerStatus;
  'server.log': { t: number; line: string };
  /** The set of open images or one image's summary changed (opened from the CLI, closed, chain set, served). */
  'images.changed': ImageSummary[];
  /** An overlay commit's bytes read so far, of the disk's size. */
  'overlay.progress': { imageId: string; done: number; total: number };
  /** Clients read or wrote (or the activity was cleared): ask activity.bins again. At most 4 per second per image. */
  'activity.changed': { imageId: string };
  /** A menu item or accelerator the renderer acts on (Electron). */
  'app.command': { command: CommandId };
}
export type IpcEventName = keyof IpcEvents;

/** One function that takes any contract event: how the engine hands events to a host. */
export type IpcEventSink = <E extends IpcEventName>(event: E, payload: IpcEvents[E]) => void;

export const ipcEventNames = [
  'map.changed', 'map.scanProgress', 'stats.sample', 'server.clients', 'server.status', 'server.log', 'images.changed', 'app.command',
  'overlay.progress', 'activity.changed',
] as const satisfies readonly IpcEventName[];

export function isIpcEventName(name: unknown): name is IpcEventName {
  return typeof name === 'string' && (ipcEventNames as readonly string[]).includes(name);
}
