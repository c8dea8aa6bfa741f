// One image file's own view of the guest disk, before any backing file is consulted. Format
// readers (qcow2, vmdk, raw, ...) implement ImageLayer; LayerStack composes a chain of them
// into what a client reads, so the rules for backing files live in one place.
import { EXTENT_HOLE_ZERO, pushRun } from '../../shared/extents.ts';
import { BoundedCache } from './cache.ts';

/**
 * A run of the layer's own status. `present` false means the layer does not hold the range
 * and a reader must look at the backing file. When present, `flags` are the base:allocation
 * bits the run has on the wire (DATA 0, allocated zero 2, unallocated zero 3).
 */
export interface LayerRun {
  offset: number;
  length: number;
  present: boolean;
  flags: number;
}

/** What the image names as the layer below it. */
export interface BackingReference {
  /** As stored in the image (may be relative to the image's folder). */
  name: string;
  /** Format named by the image, if any (otherwise it is probed). */
  format?: string;
}

export interface ImageLayer {
  readonly path: string;
  readonly format: string;
  /** Virtual size in bytes. */
  readonly size: number;
  readonly backing?: BackingReference;
  /** Problems worth telling the user that do not stop reading (a qcow2 corrupt bit). */
  readonly warnings: readonly string[];
  /** One line for `blockscope info`. */
  readonly summary: string;
  /** Contiguous runs covering exactly [offset, offset+count), which lies inside the layer. */
  status(offset: number, count: number): Promise<LayerRun[]>;
  /** Fill `buf` from `offset`; only called for ranges `status` reports present without ZERO. */
  readPresent(buf: Buffer, offset: number): Promise<void>;
  close(): Promise<void>;
}

const sameStatus = (a: LayerRun, b: LayerRun): boolean => a.present === b.present && a.flags === b.flags;

/** Appends runs, merging a run into the previous one when they continue each other. */
export class RunBuilder {
  readonly runs: LayerRun[] = [];

  push(offset: number, length: number, present: boolean, flags: number): void {
    if (length > 0) pushRun(this.runs, { offset, length, present, flags }, sameStatus);
  }

  /** A range the layer does not hold (the backing file answers for it). */
  absent(offset: number, length: number): void {
    this.push(offset, length, false, EXTENT_HOLE_ZERO);
  }
}

/**
 * Caches shared by every layer of one opened chain, so the whole chain stays within one
 * memory budget however deep it is. Keys start with the layer's path.
 */
export interface LayerCaches {
  /** Metadata tables (qcow2 L2 tables, VMDK grain tables). */
  tables: BoundedCache<string, Buffer>;
  /** Decompressed clusters and grains, so sequential small reads inflate each once. */
  clusters: BoundedCache<string, Buffer>;
}

const TABLE_BUDGET = 32 * 1024 * 1024;
const CLUSTER_BUDGET = 8 * 1024 * 1024;

export function newLayerCaches(): LayerCaches {
  return { tables: new BoundedCache(TABLE_BUDGET), clusters: new BoundedCache(CLUSTER_BUDGET) };
}
