// The data the contract carries: what channels answer and events push. Plain types (plus
// the two helpers that read them), no schemas: the renderer, the services and both hosts
// share these shapes, and only shared/ipc/channels.ts says which channel carries which.
import type { ChainConfig } from '../chain-config.ts';
import type { ExtentKind } from '../extents.ts';
import type { ParamSpec } from '../params.ts';
import type { StatsOp } from '../ops.ts';

/** The port an NBD server listens on unless told otherwise (IANA's registration for NBD). */
export const DEFAULT_NBD_PORT = 10809;

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

/** One entry of a partition table, as every side names it (main's reader adds more). */
export interface PartitionEntry {
  /** 1-based, nbdkit's numbering (GPT entry index + 1; MBR primaries 1-4, logicals from 5): what the partition filter takes. */
  number: number;
  start: number;
  length: number;
  /** GPT type GUID (upper case) or MBR type byte as "0x83". */
  type: string;
  /** Human name of `type` ("Linux filesystem", "EFI System", ...), or "unknown". */
  typeName: string;
  /** GPT partition name ('' for MBR). */
  name: string;
}

export interface PartitionInfo extends PartitionEntry {
  filesystem?: FilesystemInfo;
}

/** The partition holding `offset`, if any. */
export function partitionAt(partitions: readonly PartitionInfo[], offset: number): PartitionInfo | null {
  return partitions.find((p) => offset >= p.start && offset < p.start + p.length) ?? null;
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
  /** Whether clients may write: asked for, and the chain can write. */
  writable: boolean;
  /**
   * Present when writes were asked for but the chain refuses them (a read-only format, the
   * readonly filter): why, and what would make it writable. Clients get a read-only export.
   */
  readOnlyReason?: string;
  /** With readOnlyReason: switching the cow filter on would make the export writable. */
  offerCow?: boolean;
  /** nbd://host:port/export */
  uri: string;
  /** nbd+unix:///export?socket=... when a socket path was given. */
  unixUri?: string;
  /** What a client of the export is told it can do, as `blockscope info` prints it. */
  capabilities?: ExportCapabilities;
  /** The server's TLS mode when it is not off (nbd:// then fails under require: clients need nbds://). */
  tls?: Exclude<TlsMode, 'off'>;
}

/** The capability names `blockscope info` prints, in its order. */
export const CAPABILITY_NAMES = [
  'is_read_only', 'can_flush', 'can_fua', 'is_rotational', 'can_trim', 'can_zero', 'can_fast_zero', 'can_multi_conn', 'can_cache', 'can_extents',
] as const;
export type CapabilityName = (typeof CAPABILITY_NAMES)[number];

export interface ExportCapabilities {
  flags: Record<CapabilityName, boolean>;
  /** The block sizes the server advertises (NBD_INFO_BLOCK_SIZE), in bytes. */
  blockSize: { minimum: number; preferred: number; maximum: number };
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
  /**
   * Present when the file opened as raw only because nothing in it was recognised: no image
   * format, partition table or filesystem. A raw disk with an MBR, GPT or filesystem lacks it.
   */
  rawFallback?: true;
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

/** One bounded step of hex.search: where the pattern starts, or where to go on from. */
export interface ByteSearchResult {
  /** The first offset at or after `from` where the pattern starts; null: not within this step. */
  found: number | null;
  /** Where the next step starts when nothing was found; the disk's size once it was all searched. */
  scannedTo: number;
}

export interface ChainState {
  imageId: string;
  config: ChainConfig;
  label: string;
  /** Names of enabled filters whose instance holds writes that exist nowhere else (cow). */
  unsavedFilters: string[];
}

/** What a cow overlay holds: bytes in blocks written, zeroed or trimmed by clients (blocks copied up on read count too). */
export interface OverlayStatus {
  imageId: string;
  /** false when the chain has no cow filter. */
  present: boolean;
  heldBytes: number;
  blockSize: number;
}

export const OVERLAY_COMMIT_FORMATS = ['raw', 'qcow2'] as const;
export type OverlayCommitFormat = (typeof OVERLAY_COMMIT_FORMATS)[number];

/** The image file an overlay commit wrote. */
export interface OverlayCommitResult {
  path: string;
  format: OverlayCommitFormat;
  /** The disk size (what a client sees). */
  size: number;
  /** Bytes of data written: holes and zeroes are left out, so the file stays sparse. */
  bytesWritten: number;
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
  /** Present when the client is on TLS (STARTTLS), with its PSK identity or verified certificate subject. */
  tls?: { pskIdentity?: string; certificateSubject?: string };
}

export interface ServerStatus {
  running: boolean;
  host?: string;
  port?: number;
  socketPath?: string;
  /** nbd://host:port (no export) while listening on TCP. */
  baseUri?: string;
  exports: (ExportState & { imageId: string })[];
  /** While running: STARTTLS and the credentials behind it. */
  tls?: TlsServerInfo;
  /** While running on a non-loopback address without TLS require: what the CLI warns too. */
  exposureWarning?: string;
}

/** nbdkit's --tls: off (STARTTLS refused), on (offered), require (nothing else before it). */
export const TLS_MODES = ['off', 'on', 'require'] as const;
export type TlsMode = (typeof TLS_MODES)[number];

/** What server.start asks for: a certificates folder in nbdkit's layout, or a psktool key file. */
export interface TlsServeSettings {
  mode: TlsMode;
  certificates?: string;
  pskFile?: string;
  /** Also require a client certificate signed by the folder's ca-cert.pem. */
  verifyPeer?: boolean;
}

/** The running server's TLS, with what a client needs: its files' folder (x509) or key file and identities (PSK). */
export type TlsServerInfo =
  | { mode: 'off' }
  | { mode: Exclude<TlsMode, 'off'>; kind: 'x509'; certificates: string; clientDir: string; verifyPeer: boolean; caFingerprint?: string }
  | { mode: Exclude<TlsMode, 'off'>; kind: 'psk'; pskFile: string; pskDir: string; pskUsers: string[] };

/** Credentials the app made in its state folder (tls/): absent parts were not made yet. */
export interface TlsCredentialsInfo {
  /** serverDir for --tls-certificates; clientDir (ca-cert.pem, client-cert.pem, client-key.pem) for clients. */
  certificates?: { serverDir: string; clientDir: string; caFingerprint: string };
  /** file is dir/keys.psk (qemu's tls-creds-psk reads dir). */
  psk?: { dir: string; file: string; users: string[] };
}

/** The operations a StatsSample reports (shared/ops.ts names them). */
export { STATS_OPS, type StatsOp } from '../ops.ts';

/** One operation's part of a StatsSample: rates over a sliding window, errors and latency of the interval. */
export interface OpStats {
  /** Requests per second over the last two seconds, divided by the time they span (exact for a steady stream). */
  ops: number;
  /** Bytes per second over the same window (payload bytes; block-status counts its range). */
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
  /** Requests per second, over the same window as OpStats.ops. */
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

/** Base64 without Node's Buffer, for the renderer. */
export function decodeBase64(text: string): Uint8Array {
  const bin = atob(text);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/**
 * Compare (main/services/compare.ts): how a range of two images relates. `only-a`/`only-b`:
 * the same bytes, allocated on one side only (a hole or past the end on the other).
 */
export type CompareClass = 'identical' | 'differ' | 'only-a' | 'only-b';

export interface CompareRange {
  offset: number;
  length: number;
  class: CompareClass;
}

export interface CompareResult {
  sizeA: number;
  sizeB: number;
  /** --strict: allocation and size differences count as differences (qemu-img compare -s). */
  strict: boolean;
  /** The verdict qemu-img compare's exit code gives: true means exit 0. */
  identical: boolean;
  /** Where the first difference the verdict counts starts, or null. */
  firstDifference: number | null;
  /** Bytes of each class over [0, max(sizeA, sizeB)). */
  totals: Record<CompareClass, number>;
  /** Every range that is not identical, coalesced, in order. */
  ranges: CompareRange[];
}

/** The operations the activity recorder counts, in the order of its counters. */
export const ACTIVITY_OPS = ['read', 'write', 'zero', 'trim'] as const;
/** What the heat overlay shows: reads, writes (written, zeroed and trimmed bytes), or both. */
export type ActivitySelection = 'reads' | 'writes' | 'both';
/** Bytes clients moved, per operation. */
export interface ActivityCounts {
  read: number;
  written: number;
  zeroed: number;
  trimmed: number;
}

/** activity.bins: `selection`'s bytes per bin of [start, end), the bins cut as map.bins cuts them. */
export interface ActivityBins {
  imageId: string;
  start: number;
  end: number;
  bins: number;
  counts: number[];
  /** The recorder's bucket size: bins whose edges are multiples of it get exact counts. */
  granularity: number;
  /** null: since the image was served (or last cleared). */
  windowSeconds: number | null;
}

export interface ActivityPartitions {
  imageId: string;
  windowSeconds: number | null;
  disk: ActivityCounts;
  partitions: (ActivityCounts & { number: number; name: string })[];
}

export type ActivityExportFormat = 'csv' | 'extentlist';

export interface ActivityExport {
  format: ActivityExportFormat;
  mimeType: string;
  fileName: string;
  text: string;
}

/** compare.run's answer: the comparison of image `imageId` (A) with `otherId` (B, opened for it). */
export interface CompareRun extends CompareResult {
  imageId: string;
  otherId: string;
  otherTitle: string;
}
