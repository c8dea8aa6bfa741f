// The channels: what the renderer may ask the engine. Every channel has a zod schema for its
// request (each handler validates its input with it before doing anything) and a response
// type. Add channels; never rename one: the renderer and the preload compile against these
// names.
import { NBD_URI_PATTERN } from '../nbd-uri.ts';
import { z } from 'zod';
import { chainConfigSchema } from '../chain-config.ts';
import type { ActivityBins, ActivityExport, ActivityPartitions } from './activity-payloads.ts';
import type { CompareRun } from './compare-payloads.ts';
import type {
  AppInfo, ByteSearchResult, ChainState, ComponentInfo, DemoLayoutInfo, ExtentAt, HexBytes, ImageSummary, MapBins, MapExport, OverlayCommitResult,
  OverlayStatus, RecentImage,
} from './payloads.ts';
import { OVERLAY_COMMIT_FORMATS } from './payloads.ts';
import { TLS_MODES, type ClientInfo, type ServerStatus, type TlsCredentialsInfo } from './serving-payloads.ts';

/** The largest hex.read: enough for a screenful of a hex view, small enough to be cheap. */
export const HEX_READ_MAX = 64 * 1024;
/** The longest hex.search pattern, in bytes. */
export const HEX_SEARCH_PATTERN_MAX = 256;
/** The most bytes one hex.search step may read before it answers. */
export const HEX_SEARCH_LIMIT_MAX = 256 * 1024 * 1024;

/** The most bins one map.bins may ask for (a 4K screen at DPR 2 is 7680 pixels wide). */
export const MAP_BINS_MAX = 16384;

const MAX_OFFSET = Number.MAX_SAFE_INTEGER;
const byteOffset = z.number().int().min(0).max(MAX_OFFSET);
const imageId = z.string().min(1).max(64);
const nbdUri = z.string().max(4096).regex(NBD_URI_PATTERN, 'an nbd:// or nbd+unix:// URI');
const filePath = z.string().min(1).max(4096);
/** A file's name without a directory: the save dialog starts from it. */
const fileName = z.string().min(1).max(255).regex(/^[^/\\\0]+$/, 'a file name without a directory');
/** The largest file the save dialog is handed (a map export, a picture), in characters. */
export const SAVE_FILE_MAX = 64 * 1024 * 1024;
const empty = z.object({}).strict();
const forImage = z.object({ imageId }).strict();
/** "The last N seconds" of activity: up to the recorder's history (main/services/activity.ts). */
export const ACTIVITY_WINDOW_MAX = 300;
const activityWindow = z.number().int().min(1).max(ACTIVITY_WINDOW_MAX).optional();
/** psktool's identities: no ':' (its separator), nothing a URI or a shell command would mangle. */
export const PSK_USER_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
const tlsServeSettings = z.object({
  mode: z.enum(TLS_MODES),
  certificates: filePath.optional(),
  pskFile: filePath.optional(),
  verifyPeer: z.boolean().optional(),
}).strict().refine((t) => !(t.certificates !== undefined && t.pskFile !== undefined), { message: 'a certificates folder or a PSK file, not both' });

export const ipcRequestSchemas = {
  'app.info': empty,
  /** The demo image's layout (null when no demo image is open or known). */
  'app.demoLayout': empty,
  'components.list': empty,
  'images.open': z.union([
    z.object({ path: filePath }).strict(),
    z.object({ uri: nbdUri }).strict(),
  ]),
  'images.demo': empty,
  'images.close': forImage,
  /** Every open image, in the order they were opened (a reloaded renderer starts here). */
  'images.list': empty,
  'images.get': forImage,
  'images.recent': empty,
  /** Electron's file dialog; the browser host answers with an 'unsupported' error. */
  'dialog.openImage': empty,
  /**
   * Electron's save dialog, then writing the file there (an exported map); the browser host
   * answers 'unsupported' and the window downloads the file instead.
   */
  'dialog.saveFile': z.union([
    z.object({ suggestedName: fileName, text: z.string().max(SAVE_FILE_MAX) }).strict(),
    z.object({ suggestedName: fileName, base64: z.string().max(SAVE_FILE_MAX).regex(/^[A-Za-z0-9+/]*={0,2}$/) }).strict(),
  ]),
  'map.bins': z.object({
    imageId,
    start: byteOffset,
    end: byteOffset,
    bins: z.number().int().min(1).max(MAP_BINS_MAX),
  }).strict().refine((r) => r.end > r.start, { message: 'end must be greater than start' }),
  'map.extentAt': z.object({ imageId, offset: byteOffset }).strict(),
  'map.export': z.object({ imageId, format: z.enum(['nbdinfo-json', 'qemu-img-json', 'csv']) }).strict(),
  'hex.read': z.object({ imageId, offset: byteOffset, length: z.number().int().min(1).max(HEX_READ_MAX) }).strict(),
  /** The first place at or after `from` where `pattern` (hex digits) starts, reading at most `limit` bytes. */
  'hex.search': z.object({
    imageId,
    from: byteOffset,
    pattern: z.string().min(2).max(2 * HEX_SEARCH_PATTERN_MAX).regex(/^(?:[0-9a-fA-F]{2})+$/, 'hex digits, two per byte'),
    limit: z.number().int().min(1).max(HEX_SEARCH_LIMIT_MAX),
  }).strict(),
  'chain.get': forImage,
  /** Fails with code 'needs-confirmation' when it would drop unsaved data, unless force. */
  'chain.set': z.object({ imageId, config: chainConfigSchema, force: z.boolean().optional() }).strict(),
  'server.start': z.object({
    imageId,
    host: z.string().min(1).max(255).optional(),
    port: z.number().int().min(0).max(65535).optional(),
    exportName: z.string().max(4096).optional(),
    writable: z.boolean().optional(),
    socketPath: z.string().min(1).max(107).optional(),
    /** Left out: the running server's TLS (off for a new one). Another setting restarts the server. */
    tls: tlsServeSettings.optional(),
  }).strict(),
  /** Without imageId: stop serving everything. */
  'server.stop': z.object({ imageId: imageId.optional() }).strict(),
  'server.status': empty,
  'clients.list': empty,
  /** Close one client's connection; the others keep theirs. */
  'clients.disconnect': z.object({ clientId: z.number().int().min(1) }).strict(),
  'overlay.status': forImage,
  /**
   * Write the disk as the chain shows it (the image with the cow overlay's writes) into a new
   * file. Fails with 'needs-confirmation' when the file exists, unless overwrite.
   */
  'overlay.commit': z.object({ imageId, path: filePath, format: z.enum(OVERLAY_COMMIT_FORMATS), overwrite: z.boolean().optional() }).strict(),
  /** Empty the cow overlay: the chain reads the image below again. */
  'overlay.discard': forImage,
  /** Bytes clients read and/or wrote per map bin (cut as map.bins cuts them), over the last windowSeconds or since serving began. */
  'activity.bins': z.object({
    imageId,
    start: byteOffset,
    end: byteOffset,
    bins: z.number().int().min(1).max(MAP_BINS_MAX),
    op: z.enum(['reads', 'writes', 'both']),
    windowSeconds: activityWindow,
  }).strict().refine((r) => r.end > r.start, { message: 'end must be greater than start' }),
  'activity.partitions': z.object({ imageId, windowSeconds: activityWindow }).strict(),
  /** Forget the image's activity so far; recording goes on. */
  'activity.clear': forImage,
  /** CSV per touched bucket, or the touched ranges as nbdkit's extentlist filter reads them. */
  'activity.export': z.object({ imageId, format: z.enum(['csv', 'extentlist']), windowSeconds: activityWindow }).strict(),
  /**
   * Compare the image (its chain as the map reads it) with another image file or nbd:// URI,
   * which opens as an image too: every differing range, classed, with totals (qemu-img compare -s with strict).
   */
  'compare.run': z.object({
    imageId,
    other: z.union([z.object({ path: filePath }).strict(), z.object({ uri: nbdUri }).strict()]),
    strict: z.boolean().optional(),
  }).strict(),
  /**
   * The image's last compare.run with otherId, with `ranges` ([start, end) pairs that changed
   * since, from map.changed) compared again: what a live diff view asks while clients write.
   */
  'compare.refresh': z.object({
    imageId,
    otherId: imageId,
    ranges: z.array(z.tuple([byteOffset, byteOffset]).refine(([s, e]) => e > s, { message: 'end must be greater than start' })).min(1).max(4096),
  }).strict(),
  /** The TLS credentials the app made in its state folder so far. */
  'tls.credentials': empty,
  /** A CA (kept if there is one), a server certificate for this host's names and listenHost, a client certificate. */
  'tls.createCertificates': z.object({ listenHost: z.string().min(1).max(255).optional() }).strict(),
  /** A new random PSK for user in the app's keys.psk (the other users keep theirs). */
  'tls.createPsk': z.object({ user: z.string().regex(PSK_USER_PATTERN, "letters, digits, '.', '_' or '-' (1 to 64)") }).strict(),
} as const;

export type IpcChannel = keyof typeof ipcRequestSchemas;
/** What a caller passes (optional fields may be left out). */
export type IpcRequest<C extends IpcChannel> = z.input<(typeof ipcRequestSchemas)[C]>;
/** What a handler receives after validation. */
export type IpcValidRequest<C extends IpcChannel> = z.output<(typeof ipcRequestSchemas)[C]>;

/** What each channel answers. Keyed by exactly the channels of ipcRequestSchemas (ipc/api.test.ts checks). */
export interface IpcResponses {
  'app.info': AppInfo;
  'app.demoLayout': DemoLayoutInfo | null;
  'components.list': ComponentInfo[];
  'images.open': ImageSummary;
  'images.demo': ImageSummary;
  'images.close': { imageId: string };
  'images.list': ImageSummary[];
  'images.get': ImageSummary;
  'images.recent': RecentImage[];
  /** null when the user cancelled. */
  'dialog.openImage': { path: string | null };
  /** Where the file was written; null when the user cancelled. */
  'dialog.saveFile': { path: string | null };
  'map.bins': MapBins;
  'map.extentAt': ExtentAt;
  'map.export': MapExport;
  'hex.read': HexBytes;
  'hex.search': ByteSearchResult;
  'chain.get': ChainState;
  'chain.set': ChainState;
  'server.start': ServerStatus;
  'server.stop': ServerStatus;
  'server.status': ServerStatus;
  'clients.list': ClientInfo[];
  'clients.disconnect': ClientInfo[];
  'overlay.status': OverlayStatus;
  'overlay.commit': OverlayCommitResult;
  'overlay.discard': ChainState;
  'activity.bins': ActivityBins;
  'activity.partitions': ActivityPartitions;
  'activity.clear': { imageId: string };
  'activity.export': ActivityExport;
  'compare.run': CompareRun;
  'compare.refresh': CompareRun;
  'tls.credentials': TlsCredentialsInfo;
  'tls.createCertificates': TlsCredentialsInfo;
  'tls.createPsk': TlsCredentialsInfo;
}
export type IpcResponse<C extends IpcChannel> = IpcResponses[C];

export const ipcChannels = Object.keys(ipcRequestSchemas) as IpcChannel[];

export function isIpcChannel(name: unknown): name is IpcChannel {
  return typeof name === 'string' && Object.hasOwn(ipcRequestSchemas, name);
}
