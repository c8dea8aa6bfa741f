// The plugin and filter contract (nbdkit's callbacks, the seed's extents semantics).
//
// A definition (PluginDefinition / FilterDefinition) is registered once. `create(params)`
// makes an instance per export: state that holds user data (a RAM disk, a cow overlay)
// lives there and survives chain rebuilds. `open()` makes a handle per connection. Every
// callback on a handle is optional except getSize and pread on plugins; a filter callback
// that is left out passes straight through to the layer below.
import type { Extent } from '../../shared/extents.ts';
import type { ExtentDescriptors } from './extent-descriptors.ts';
import type { ParamSpec, ParamsOf } from '../../shared/params.ts';
import type { Support } from './flags.ts';

type MaybePromise<T> = T | Promise<T>;

/**
 * Which layer of an image chain holds a range (qemu:allocation-depth): 0 = no layer (a hole
 * of the whole chain), 1 = the image itself, 2 = its backing file, and so on.
 */
export interface DepthExtent {
  offset: number;
  length: number;
  depth: number;
}

/**
 * Block size constraints a layer advertises (nbdkit's .block_size, NBD_INFO_BLOCK_SIZE):
 * requests should be aligned to `minimum` (a power of 2), are best in multiples of
 * `preferred`, and should carry at most `maximum` bytes of data.
 */
export interface BlockSizes {
  minimum: number;
  preferred: number;
  maximum: number;
}

export interface OpenOptions {
  readonly: boolean;
  exportName: string;
}

/** Callbacks shared by plugins and filters. Offsets and counts are exact integers < 2^53. */
export interface LayerCallbacks {
  getSize?(): MaybePromise<number>;
  canWrite?(): MaybePromise<boolean>;
  canFlush?(): MaybePromise<boolean>;
  isRotational?(): MaybePromise<boolean>;
  canTrim?(): MaybePromise<boolean>;
  canZero?(): MaybePromise<boolean>;
  canFastZero?(): MaybePromise<boolean>;
  canFua?(): MaybePromise<Support>;
  canMultiConn?(): MaybePromise<boolean>;
  canCache?(): MaybePromise<Support>;
  /** Absent: the layer below's answer; null at the plugin (no constraints of its own). */
  blockSize?(): MaybePromise<BlockSizes | null>;
  /** Absent: true iff `extents` is defined (the seed's rule). */
  canExtents?(): MaybePromise<boolean>;

  /** Fill all of `buf` with the bytes at `offset`. */
  pread?(buf: Buffer, offset: number, flags: number): MaybePromise<void>;
  /** `buf` is only lent: copy what must outlive the call (the server reuses the buffer). */
  pwrite?(buf: Buffer, offset: number, flags: number): MaybePromise<void>;
  flush?(flags: number): MaybePromise<void>;
  trim?(count: number, offset: number, flags: number): MaybePromise<void>;
  /** Throw ENOTSUP/EOPNOTSUPP to make the backend fall back to writing zeroes. */
  zero?(count: number, offset: number, flags: number): MaybePromise<void>;
  cache?(count: number, offset: number, flags: number): MaybePromise<void>;
  /**
   * Extents overlapping [offset, offset+count), in any order. The backend sorts them, drops
   * EXTENT_NONE entries and entries outside the range, clips, treats gaps between and before
   * entries as holes that read as zero, coalesces equal neighbours, and rejects overlaps.
   * What follows the last entry is a hole only in a plugin's answer to a request without
   * FLAG_REQ_ONE (or an empty answer); otherwise the reply ends there and the client asks
   * again. So a plugin must cover every byte it holds data for, and a filter that stitches
   * lower extents must end its list where a lower answer stopped short (extentsEnd).
   * FLAG_REQ_ONE is a hint a plugin may ignore.
   */
  extents?(count: number, offset: number, flags: number): MaybePromise<Extent[]>;
  /**
   * Allocation depth over [offset, offset+count), sorted and contiguous. Only layers that know
   * it (image formats with backing files) define it; a filter that changes extents without
   * defining it hides it, since the depths below would no longer describe what it serves.
   */
  allocationDepth?(count: number, offset: number): MaybePromise<DepthExtent[]>;
  /**
   * extents() in NBD's descriptor form (extent-descriptors.ts), for a plugin that receives
   * them that way (nbd): the answer to a request without FLAG_REQ_ONE, from `offset`, which may
   * cover less than asked and claims nothing after its end; null when it has none. Used only
   * where no filter above changes extents and the answer needs no normalising.
   */
  extentDescriptors?(count: number, offset: number): MaybePromise<ExtentDescriptors | null>;
  /**
   * Where the bytes [offset, offset+count) lie unchanged in a file this handle holds open, so
   * the server may send them without reading them (sendfile); null when they do not. A filter
   * without pread passes the answer up; one with pread hides it unless it answers itself.
   */
  fileRange?(count: number, offset: number): FileRange | null;
  /**
   * The descriptor of the file this handle reads, writes and flushes, byte for byte at the
   * same offsets, so the server may serve READ, WRITE and FLUSH on it itself. A filter with
   * pread, pwrite or flush hides it. The handle's extents, if it answers them, must be that
   * file's as SEEK_DATA/SEEK_HOLE and FIEMAP tell (native/file_map.h), so the server may answer
   * BLOCK_STATUS itself where no filter changes extents (LayerContext.passThroughExtents).
   */
  passThroughFile?(): number | null;

  close?(): MaybePromise<void>;
}

/** A file descriptor and the offset in it where a range's bytes are; valid until the handle closes. */
export interface FileRange {
  fd: number;
  offset: number;
}

export interface PluginHandle extends LayerCallbacks {
  getSize(): MaybePromise<number>;
  pread(buf: Buffer, offset: number, flags: number): MaybePromise<void>;
}

export type FilterHandle = LayerCallbacks;

/**
 * The layer below, as a filter (or the NBD connection) sees it: every callback present,
 * range- and flag-checked, can* answers computed once per connection.
 */
export interface Next {
  readonly name: string;
  getSize(): number;
  canWrite(): boolean;
  canFlush(): boolean;
  isRotational(): boolean;
  canTrim(): boolean;
  canZero(): boolean;
  canFastZero(): boolean;
  canFua(): Support;
  canMultiConn(): boolean;
  canCache(): Support;
  /** null: no layer set constraints, so the server advertises its own defaults. */
  blockSize(): BlockSizes | null;
  canExtents(): boolean;
  pread(buf: Buffer, offset: number, flags?: number): Promise<void>;
  pwrite(buf: Buffer, offset: number, flags?: number): Promise<void>;
  flush(flags?: number): Promise<void>;
  trim(count: number, offset: number, flags?: number): Promise<void>;
  zero(count: number, offset: number, flags?: number): Promise<void>;
  cache(count: number, offset: number, flags?: number): Promise<void>;
  /**
   * Sorted, contiguous, coalesced extents from `offset`, covering [offset, offset+count) or
   * only a first part of it (a reply cap, REQ_ONE): never claim anything past their end.
   */
  extents(count: number, offset: number, flags?: number): Promise<Extent[]>;
  /**
   * extents() without REQ_ONE in descriptor form, where the layers can answer so (see
   * LayerCallbacks.extentDescriptors); null where they cannot: ask extents() then.
   */
  extentDescriptors(count: number, offset: number): Promise<ExtentDescriptors | null>;
  canAllocationDepth(): boolean;
  allocationDepth(count: number, offset: number): Promise<DepthExtent[]>;
  /** See LayerCallbacks.fileRange: null unless every layer down to the file passes reads through. */
  fileRange(count: number, offset: number): FileRange | null;
  /** See LayerCallbacks.passThroughFile: null unless every layer down to the file passes reads, writes and flushes through. */
  passThroughFile(): number | null;
  /** True where passThroughFile's file also answers the extents: no layer above it has extents of its own. */
  passThroughExtents(): boolean;
}

export interface PluginInstance {
  open(options: OpenOptions): MaybePromise<PluginHandle>;
  /** A line for NBD_INFO_DESCRIPTION and `blockscope info`. */
  description?: string;
  unload?(): MaybePromise<void>;
}

/**
 * Who is connecting, known before the handshake (nbdkit's .preconnect sees the same). An
 * IPv4 client of a dual-stack listener (::ffff:a.b.c.d) is reported as the IPv4 address.
 */
export type PeerInfo =
  | { family: 'ipv4' | 'ipv6'; address: string; port: number }
  | {
    family: 'unix';
    /** SO_PEERCRED; null when it could not be read (no native addon), so rules on it fail closed. */
    credentials: { pid: number; uid: number; gid: number } | null;
    /** SO_PEERSEC (the peer's SELinux/AppArmor label); null when Linux gives none. */
    security: string | null;
  };

/**
 * Close every layer below a filter and open them again for this connection, with `readonly`
 * as given (nbdkit's reopen, for retry). Resolves to the new layer below, which the filter's
 * pass-through callbacks use from then on; the old one is closed and must not be used.
 */
export type Reopen = (options: { readonly: boolean }) => Promise<Next>;

/** Undoes what an admission took (limit's slot); called once, when the connection closes. */
export type Release = () => void;

export interface FilterInstance {
  /** Open the layer below read-only whatever the client asked (cow). */
  readonlyBelow?: boolean;
  /**
   * Admission, before the handshake: throw (BlockError EACCES, the reason as its message) to
   * close the connection unserved; return a Release to hold something for the connection's
   * life. Runs for client connections only, not for the app's own views of the chain.
   */
  preconnect?(peer: PeerInfo): MaybePromise<void | Release>;
  open(next: Next, options: OpenOptions, reopen: Reopen): MaybePromise<FilterHandle>;
  /** True while the instance holds writes that exist nowhere else (cow): ask before dropping. */
  hasUnsavedData?(): boolean;
  /**
   * For filters that end the server (exitlast, exitwhen): the CLI calls this once it listens;
   * the filter calls `exit` (at most once) when the server should stop. Returns what stops
   * the filter's watching (timers) when the server stops for another reason.
   */
  watchServer?(exit: (reason: string) => void): () => void;
  unload?(): MaybePromise<void>;
}

interface ComponentDefinition<P extends readonly ParamSpec[]> {
  name: string;
  /** One line for --help and the sidebar. */
  summary: string;
  params: P;
}

// `create` is declared as a method so that a definition with literal specs (whose create
// takes ParamsOf of them) is still a PluginDefinition in a catalogue of many: the registry
// only ever passes it what parseParams made of exactly those specs.
export interface PluginDefinition<P extends readonly ParamSpec[] = readonly ParamSpec[]> extends ComponentDefinition<P> {
  /** The key a bare argument sets (`blockscope serve file disk.img` = file=disk.img). */
  magicKey?: string;
  create(params: ParamsOf<P>): MaybePromise<PluginInstance>;
}

export interface FilterDefinition<P extends readonly ParamSpec[] = readonly ParamSpec[]> extends ComponentDefinition<P> {
  /** Only meaningful when the server starts (exitlast): listed in --help, kept out of the sidebar. */
  cliOnly?: true;
  create(params: ParamsOf<P>): MaybePromise<FilterInstance>;
}

/** A plugin whose create() reads its parameters typed from its own specs. */
export function definePlugin<const P extends readonly ParamSpec[]>(def: PluginDefinition<P>): PluginDefinition<P> {
  return def;
}

/** A filter whose create() reads its parameters typed from its own specs. */
export function defineFilter<const P extends readonly ParamSpec[]>(def: FilterDefinition<P>): FilterDefinition<P> {
  return def;
}
