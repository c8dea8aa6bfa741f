// The one IPC contract between the engine (main) and the UI (renderer), whichever host
// carries it: Electron's ipcMain/contextBridge or the browser host's WebSocket. Every
// channel has a zod schema for its request (each handler validates its input with it) and a
// response type; every event has a payload type. Add channels; never rename one: the
// renderer compiles against these names.
//
// Replies travel as an IpcResult envelope on both transports, because an Error thrown
// through Electron's ipcMain.handle or contextBridge loses everything but its message, and
// the renderer needs the error code (a filter holding unsaved data asks for confirmation).
import { z } from 'zod';
import { chainConfigSchema, type ChainConfig } from './chain-config.ts';
import type { ExtentKind } from './extents.ts';
import type { ParamSpec } from './params.ts';

const MAX_OFFSET = Number.MAX_SAFE_INTEGER;
const byteOffset = z.number().int().min(0).max(MAX_OFFSET);
const imageId = z.string().min(1).max(64);
/** The largest hex.read: enough for a screenful of a hex view, small enough to be cheap. */
export const HEX_READ_MAX = 64 * 1024;
/** The most bins one map.bins may ask for (a 4K screen at DPR 2 is 7680 pixels wide). */
export const MAP_BINS_MAX = 16384;
export const DEFAULT_NBD_PORT = 10809;

const nbdUri = z.string().max(4096).regex(/^nbds?(\+unix|\+tcp)?:\/\//, 'an nbd:// or nbd+unix:// URI');
const filePath = z.string().min(1).max(4096);

// ---------------------------------------------------------------- shared payload types

/** A plugin or filter, as the sidebar forms and the CLI's --help describe it. */
export interface ComponentInfo {
  kind: 'plugin' | 'filter';
  name: string;
  summary: string;
  /** The key a bare argument sets (file=disk.img). */
  magicKey?: string;
  params: readonly ParamSpec[];
}

export interface FilesystemInfo {
  /** ext4, xfs, btrfs, vfat, ntfs, exfat, iso9660, swap, LVM2_member, crypto_LUKS, ... */
  type: string;
  label?: string;
  uuid?: string;
}

export interface PartitionInfo {
  /** 1-based, nbdkit's numbering (MBR logicals from 5): what the partition filter takes. */
  number: number;
  start: number;
  length: number;
  /** GUID or MBR type byte in hex. */
  type: string;
  /** "Linux filesystem", "EFI System", ... */
  typeName: string;
  /** GPT partition name ('' for MBR). */
  name: string;
  filesystem?: FilesystemInfo;
}

/** Bytes of each kind over the whole disk, as far as it has been scanned. */
export interface AllocationTotals {
  data: number;
  zero: number;
  /** HOLE|ZERO */
  hole: number;
  /** HOLE without ZERO */
  holeUndefined: number;
  /** Not scanned yet. */
  unknown: number;
  /**
   * Of `data`, the bytes each backing file holds (index 0 = the first backing file), when the
   * chain reports allocation depth; absent otherwise.
   */
  backing?: number[];
}

/** One file of an image's backing chain, top first. */
export interface ImageLayerInfo {
  /** Its allocation depth: 1 = the image itself, 2 = its backing file, ... */
  depth: number;
  path: string;
  /** qcow2, vmdk, vhd, vhdx, vdi, raw */
  format: string;
  /** Virtual size of this file (a backing file may be shorter than the image). */
  size: number;
  /** The format reader's one-line description (version, cluster size, ...). */
  summary: string;
}

export interface ScanState {
  done: number;
  total: number;
  complete: boolean;
  /** Set when the scan stopped on an error (the map then shows the rest as unknown). */
  error?: string;
}

export interface ExportState {
  exportName: string;
  writable: boolean;
  /** nbd://host:port/export */
  uri: string;
  /** nbd+unix:///export?socket=... when a socket path was given. */
  unixUri?: string;
}

export interface ImageSummary {
  id: string;
  /** Short name for tabs: the file name or the URI's export. */
  title: string;
  path?: string;
  uri?: string;
  /** True for the built-in demo image. */
  demo: boolean;
  /** raw, qcow2, vmdk, vhd, vhdx, vdi, nbd */
  format: string;
  /** Virtual size in bytes, as clients see it through the chain. */
  size: number;
  /** Bytes the image file occupies on its filesystem; null for URIs. */
  onDiskSize: number | null;
  chain: ChainConfig;
  /** "cow -> partition -> file" */
  chainLabel: string;
  partitionScheme: 'gpt' | 'mbr' | 'none';
  partitions: PartitionInfo[];
  /** The filesystem on the whole disk, when there is no partition table. */
  filesystem?: FilesystemInfo;
  /** The image file and its backing files, top first; absent for plugins that are not image formats. */
  layers?: ImageLayerInfo[];
  /** Problems found while probing (damaged GPT, partition past the end, ...). */
  warnings: string[];
  totals: AllocationTotals;
  scan: ScanState;
  /** Present while the image is served. */
  export?: ExportState;
}

export interface RecentImage {
  path?: string;
  uri?: string;
  title: string;
  /** ms since the epoch */
  openedAt: number;
}

/**
 * Bytes of each class per bin for [start, end) cut by shared/bins.ts binEdge. `counts` holds
 * BIN_STRIDE numbers per bin in BIN_CLASSES order (data, zero, hole, hole-undefined,
 * unknown): plain numbers so both transports carry them without per-bin objects.
 */
export interface MapBins {
  imageId: string;
  start: number;
  end: number;
  bins: number;
  counts: number[];
  /**
   * How many backing files `backing` counts (0 or absent: the chain reports no allocation
   * depth, or no backing file holds anything seen so far).
   */
  backingLayers?: number;
  /**
   * backingLayers numbers per bin: the bytes of the bin's data held by backing file k + 1
   * (allocation depth k + 2). They are part of the bin's data count, not added to it.
   */
  backing?: number[];
  /** Increases whenever the model changes; a reply older than the last map.changed is stale. */
  version: number;
}

export interface ExtentAt {
  /** The whole extent (as the model holds it, coalesced) containing the offset. */
  offset: number;
  length: number;
  /** NBD base:allocation bits; -1 when not scanned yet. */
  flags: number;
  kind: ExtentKind | 'unknown';
  /** Allocation depth (0 = no layer, 1 = the image, 2 = its backing file, ...); absent when the chain does not report it. */
  depth?: number;
  partition: PartitionInfo | null;
}

export type MapExportFormat = 'nbdinfo-json' | 'qemu-img-json' | 'csv';

export interface MapExport {
  format: MapExportFormat;
  mimeType: string;
  /** A suggested file name. */
  fileName: string;
  text: string;
}

export interface HexBytes {
  offset: number;
  /** Base64; decode with decodeBase64 below. */
  base64: string;
}

export interface ChainState {
  imageId: string;
  config: ChainConfig;
  label: string;
  /** Names of enabled filters whose instance holds writes that exist nowhere else (cow). */
  unsavedFilters: string[];
}

export interface ClientInfo {
  id: number;
  remote: string;
  exportName: string;
  imageId: string | null;
  /** The chain this connection runs (open connections keep theirs across toggles). */
  chainLabel: string;
  /** ms since the epoch */
  since: number;
  requests: number;
  bytesRead: number;
  bytesWritten: number;
}

export interface ServerStatus {
  running: boolean;
  host?: string;
  port?: number;
  socketPath?: string;
  /** nbd://host:port (no export) while listening on TCP. */
  baseUri?: string;
  exports: (ExportState & { imageId: string })[];
}

export const STATS_OPS = ['read', 'write', 'trim', 'zero', 'flush', 'cache', 'block-status'] as const;
export type StatsOp = (typeof STATS_OPS)[number];

export interface OpStats {
  /** Requests per second over the last interval. */
  ops: number;
  /** Bytes per second over the last interval (payload bytes; block-status counts its range). */
  bytes: number;
  /** Failed requests in the last interval. */
  errors: number;
  /** Latency percentiles in ms over the last interval; null when there were no requests. */
  p50: number | null;
  p99: number | null;
}

export interface ClientStats {
  id: number;
  remote: string;
  requests: number;
  bytesRead: number;
  bytesWritten: number;
  /** Requests per second over the last interval. */
  ops: number;
}

export interface StatsSample {
  imageId: string;
  /** ms since the epoch at the end of the interval */
  t: number;
  intervalMs: number;
  perOp: Record<StatsOp, OpStats>;
  clients: ClientStats[];
}

export interface AppInfo {
  version: string;
  host: 'electron' | 'web';
  platform: string;
  /** Whether dialog.openImage works (Electron only). */
  nativeDialogs: boolean;
}

/** Where the demo image holds each kind of region, for tests and the guided tour. */
export interface DemoLayoutInfo {
  size: number;
  partitions: { number: number; name: string; start: number; length: number; label?: string }[];
  /** [start, length] pairs */
  dataRanges: [number, number][];
  zeroRanges: [number, number][];
  holeRanges: [number, number][];
}

export type AppCommand = 'open' | 'open-uri' | 'close' | 'serve' | 'stop-serving' | 'export-map' | 'zoom-in' | 'zoom-out' | 'zoom-reset';

// ---------------------------------------------------------------- channels

const empty = z.object({}).strict();
const forImage = z.object({ imageId }).strict();

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
  'map.bins': z.object({
    imageId,
    start: byteOffset,
    end: byteOffset,
    bins: z.number().int().min(1).max(MAP_BINS_MAX),
  }).strict().refine((r) => r.end > r.start, { message: 'end must be greater than start' }),
  'map.extentAt': z.object({ imageId, offset: byteOffset }).strict(),
  'map.export': z.object({ imageId, format: z.enum(['nbdinfo-json', 'qemu-img-json', 'csv']) }).strict(),
  'hex.read': z.object({ imageId, offset: byteOffset, length: z.number().int().min(1).max(HEX_READ_MAX) }).strict(),
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
  }).strict(),
  /** Without imageId: stop serving everything. */
  'server.stop': z.object({ imageId: imageId.optional() }).strict(),
  'server.status': empty,
  'clients.list': empty,
} as const;

export type IpcChannel = keyof typeof ipcRequestSchemas;
/** What a caller passes (optional fields may be left out). */
export type IpcRequest<C extends IpcChannel> = z.input<(typeof ipcRequestSchemas)[C]>;
/** What a handler receives after validation. */
export type IpcValidRequest<C extends IpcChannel> = z.output<(typeof ipcRequestSchemas)[C]>;

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
  'map.bins': MapBins;
  'map.extentAt': ExtentAt;
  'map.export': MapExport;
  'hex.read': HexBytes;
  'chain.get': ChainState;
  'chain.set': ChainState;
  'server.start': ServerStatus;
  'server.stop': ServerStatus;
  'server.status': ServerStatus;
  'clients.list': ClientInfo[];
}
export type IpcResponse<C extends IpcChannel> = IpcResponses[C];

export const ipcChannels = Object.keys(ipcRequestSchemas) as IpcChannel[];

// ---------------------------------------------------------------- events

export interface IpcEvents {
  /** Ranges ([start, end) pairs) whose allocation changed; sent at most a few times a second. */
  'map.changed': { imageId: string; ranges: [number, number][]; version: number };
  'map.scanProgress': { imageId: string; done: number; total: number; complete: boolean; error?: string };
  /** About 4 per second per served image. */
  'stats.sample': StatsSample;
  'server.clients': ClientInfo[];
  'server.status': ServerStatus;
  'server.log': { t: number; line: string };
  /** The set of open images or one image's summary changed (opened from the CLI, closed, chain set, served). */
  'images.changed': ImageSummary[];
  /** A menu item or accelerator the renderer acts on (Electron). */
  'app.command': { command: AppCommand };
}
export type IpcEventName = keyof IpcEvents;

export const ipcEventNames = [
  'map.changed', 'map.scanProgress', 'stats.sample', 'server.clients', 'server.status', 'server.log', 'images.changed', 'app.command',
] as const satisfies readonly IpcEventName[];

export function isIpcEventName(name: unknown): name is IpcEventName {
  return typeof name === 'string' && (ipcEventNames as readonly string[]).includes(name);
}

export function isIpcChannel(name: unknown): name is IpcChannel {
  return typeof name === 'string' && Object.hasOwn(ipcRequestSchemas, name);
}

// ---------------------------------------------------------------- results and errors

export type IpcErrorCode =
  /** The request failed its schema. */
  | 'invalid-input'
  /** No such image (closed, or never opened). */
  | 'not-found'
  /** chain.set would drop unsaved data: ask the user, then resend with force: true. */
  | 'needs-confirmation'
  /** The host cannot do this (dialog.openImage in a browser). */
  | 'unsupported'
  /** The sender is not our app's page. */
  | 'forbidden'
  /** Anything else: the message says what. */
  | 'failed';

export interface IpcErrorInfo {
  code: IpcErrorCode;
  message: string;
  /** errno from the engine (EIO, ENOENT, ...), when there was one. */
  errno?: string;
  /** needs-confirmation: the filters that hold unsaved data. */
  filters?: string[];
}

export type IpcResult<T> = { ok: true; value: T } | { ok: false; error: IpcErrorInfo };

export class IpcError extends Error {
  readonly code: IpcErrorCode;
  readonly info: IpcErrorInfo;
  constructor(info: IpcErrorInfo) {
    super(info.message);
    this.name = 'IpcError';
    this.code = info.code;
    this.info = info;
  }
}

/** The value of a reply, or an IpcError carrying its code. */
export function unwrapResult<T>(result: IpcResult<T>): T {
  if (result.ok) return result.value;
  throw new IpcError(result.error);
}

// ---------------------------------------------------------------- the preload API

/** 'map.extentAt' -> 'mapExtentAt': the name of a channel's function on window.blockscope. */
export type ApiName<C extends string> = C extends `${infer A}.${infer B}` ? `${A}${Capitalize<B>}` : C;

export function apiNameOf<C extends IpcChannel>(channel: C): ApiName<C> {
  const dot = channel.indexOf('.');
  return (channel.slice(0, dot) + channel.charAt(dot + 1).toUpperCase() + channel.slice(dot + 2)) as ApiName<C>;
}

/**
 * window.blockscope in Electron: one function per channel (replies as IpcResult envelopes,
 * unwrap with unwrapResult) and `on` for contract events, returning an unsubscribe function.
 */
export type BlockscopeApi = {
  [C in IpcChannel as ApiName<C>]: (request: IpcRequest<C>) => Promise<IpcResult<IpcResponse<C>>>;
} & {
  on<E extends IpcEventName>(event: E, listener: (payload: IpcEvents[E]) => void): () => void;
  /**
   * The filesystem path of a File dropped on the window (Electron's webUtils.getPathForFile:
   * a sandboxed page cannot read File.path). Browser hosts have no such thing.
   */
  pathForFile?(file: unknown): string;
};

// ---------------------------------------------------------------- the WebSocket protocol

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

/** The WebSocket path of the browser host; the token goes in the query (?token=...). */
export const WS_PATH = '/ipc';

// ---------------------------------------------------------------- helpers

/** Base64 without Node's Buffer, for the renderer. */
export function decodeBase64(text: string): Uint8Array {
  const bin = atob(text);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}
