// The data the contract carries: what channels answer and events push. Plain types (plus
// the two helpers that read them), no schemas: the renderer, the services and both hosts
// share these shapes, and only shared/ipc/channels.ts says which channel carries which.
import type { ChainConfig } from '../chain-config.ts';
import type { ExtentKind } from '../extents.ts';
import type { ParamSpec } from '../params.ts';
import type { ExportState } from './serving-payloads.ts';

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
