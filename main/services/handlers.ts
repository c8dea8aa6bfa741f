// One handler per contract channel, shared by the Electron and browser hosts: a host only
// moves messages. `dispatch` validates every request with the channel's zod schema before a
// handler sees it and turns every failure into an IpcResult error with a code.
import {
  ipcRequestSchemas, isIpcChannel, type AppInfo, type IpcChannel, type IpcResponse, type IpcResult, type IpcValidRequest,
} from '../../shared/ipc.ts';
import { errnoOf, messageOf } from '../backend/errors.ts';
import { ServiceError } from './errors.ts';
import type { Session } from './session.ts';
import { createCertificates, createPsk, credentialsIn } from './tls-setup.ts';

export type Handlers = { [C in IpcChannel]: (request: IpcValidRequest<C>) => Promise<IpcResponse<C>> | IpcResponse<C> };

export interface HostInfo {
  host: AppInfo['host'];
  version: string;
  /** Electron's file dialog; absent in the browser host. */
  openImageDialog?: () => Promise<string | null>;
  /** Electron's save dialog, writing `contents` where the user chose; absent in the browser host. */
  saveFileDialog?: (suggestedName: string, contents: Uint8Array | string) => Promise<string | null>;
}

export function createHandlers(session: Session, host: HostInfo): Handlers {
  return {
    'app.info': () => ({ version: host.version, host: host.host, platform: process.platform, nativeDialogs: host.openImageDialog !== undefined }),
    'app.demoLayout': () => session.getDemoLayout(),
    'components.list': () => session.components(),
    'images.open': (r) => ('path' in r ? session.openPath(r.path) : session.openUri(r.uri)),
    'images.demo': () => session.openDemo(),
    'images.close': async (r) => {
      await session.close(r.imageId);
      return { imageId: r.imageId };
    },
    'images.list': () => session.list(),
    'images.get': (r) => session.get(r.imageId),
    'images.recent': () => session.recentImages(),
    'dialog.openImage': async () => {
      if (!host.openImageDialog) throw new ServiceError('unsupported', 'the browser UI cannot show a file dialog: type a path or drop a file');
      return { path: await host.openImageDialog() };
    },
    'dialog.saveFile': async (r) => {
      if (!host.saveFileDialog) throw new ServiceError('unsupported', 'the browser UI saves files as downloads');
      return { path: await host.saveFileDialog(r.suggestedName, 'text' in r ? r.text : Buffer.from(r.base64, 'base64')) };
    },
    'map.bins': (r) => session.bins(r.imageId, r.start, r.end, r.bins),
    'map.extentAt': (r) => session.extentAt(r.imageId, r.offset),
    'map.export': (r) => session.exportMap(r.imageId, r.format),
    'hex.read': (r) => session.readBytes(r.imageId, r.offset, r.length),
    'hex.search': (r) => session.searchBytes(r.imageId, Buffer.from(r.pattern, 'hex'), r.from, r.limit),
    'chain.get': (r) => session.chainState(r.imageId),
    'chain.set': (r) => session.setChain(r.imageId, r.config, r.force ?? false),
    'server.start': (r) => session.startServing(r.imageId, r),
    'server.stop': (r) => session.stopServing(r.imageId),
    'server.status': () => session.serverStatus(),
    'clients.list': () => session.clients(),
    'clients.disconnect': (r) => session.disconnectClient(r.clientId),
    'overlay.status': (r) => session.overlayStatus(r.imageId),
    'overlay.commit': (r) => session.commitOverlay(r.imageId, { path: r.path, format: r.format, overwrite: r.overwrite ?? false }),
    'overlay.discard': (r) => session.discardOverlay(r.imageId),
    'activity.bins': (r) => session.activity.bins(r.imageId, r.start, r.end, r.bins, r.op, r.windowSeconds),
    'activity.partitions': (r) => session.activity.partitions(r.imageId, r.windowSeconds),
    'activity.clear': (r) => {
      session.activity.clear(r.imageId);
      return { imageId: r.imageId };
    },
    'activity.export': (r) => session.activity.export(r.imageId, r.format, r.windowSeconds),
    'compare.run': (r) => session.compare(r.imageId, r.other, r.strict ?? false),
    'compare.refresh': (r) => session.compareRefresh(r.imageId, r.otherId, r.ranges),
    'tls.credentials': () => credentialsIn(session.tlsRoot()),
    'tls.createCertificates': (r) => createCertificates(session.tlsRoot(), r.listenHost),
    'tls.createPsk': (r) => createPsk(session.tlsRoot(), r.user),
  };
}

/** Validate `request` for `channel` and run its handler; never throws. */
export async function dispatch(handlers: Handlers, channel: unknown, request: unknown): Promise<IpcResult<unknown>> {
  if (!isIpcChannel(channel)) return { ok: false, error: { code: 'invalid-input', message: `unknown channel '${String(channel)}'` } };
  const parsed = ipcRequestSchemas[channel].safeParse(request ?? {});
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || 'request'}: ${i.message}`).join('; ');
    return { ok: false, error: { code: 'invalid-input', message: `${channel}: ${issues}` } };
  }
  try {
    const handler = handlers[channel] as (r: unknown) => unknown;
    return { ok: true, value: await handler(parsed.data) };
  } catch (err) {
    if (err instanceof ServiceError) {
      return { ok: false, error: { code: err.code, message: err.message, ...(err.filters ? { filters: err.filters } : {}) } };
    }
    const code = (err as { code?: unknown }).code;
    return { ok: false, error: { code: 'failed', message: messageOf(err), ...(typeof code === 'string' ? { errno: errnoOf(err) } : {}) } };
  }
}
