// Keeps an AllocationModel true to what an NBD client's BLOCK_STATUS would say: a scan asks
// the chain for extents from 0 to the end in slices of a few thousand extents (as NBD
// descriptors, not objects, where the chain has them so: a remote export), two at a time,
// yielding to the event loop between them, and writes that pass through the server mark
// ranges dirty, which are asked again a moment later. Every update runs in one queue, in the
// order its query was asked, so an answer that was in flight while a write landed is
// overwritten by the re-query that write caused, never the reverse.
import type { ScanState } from '../../shared/ipc.ts';
import { binClassOfFlags } from '../../shared/bins.ts';
import type { Extent } from '../../shared/extents.ts';
import { forEachDescriptor, type ExtentDescriptors } from '../backend/extent-descriptors.ts';
import type { DepthExtent } from '../backend/types.ts';
import { AllocationModel, RunColumns, withDepths, type Run } from './allocation-model.ts';
import { mergeRange } from './allocation-ranges.ts';

export { mergeRange } from './allocation-ranges.ts';

/** What the tracker asks: the top of an open, read-only chain (LayerContext fits). */
export interface ExtentSource {
  getSize(): number;
  extents(count: number, offset: number, flags?: number): Promise<Extent[]>;
  /** The same answer as NBD descriptors where the chain has it so (a remote export): see LayerContext. */
  extentDescriptors?(count: number, offset: number): Promise<ExtentDescriptors | null>;
  /** Image chains with backing files also say which layer holds each range. */
  canAllocationDepth?(): boolean;
  allocationDepth?(count: number, offset: number): Promise<DepthExtent[]>;
}

/** Scan progress is what the contract's ScanState says, declared there once. */
export type ScanProgress = ScanState;

export interface AllocationListener {
  progress(state: ScanProgress): void;
  /** Ranges ([start, end)) whose classes may have changed, at most once per throttle period. */
  changed(ranges: [number, number][], version: number): void;
}

export interface AllocationOptions {
  /**
   * Bytes per extents query. By default it follows the disk: about EXTENTS_PER_SLICE extents
   * per query, judged from the last answer, and never more than 1/64 of the disk (at least
   * 64 MiB, at most 64 GiB).
   */
  sliceBytes?: number;
  /** Least time between two scan `progress` calls but the last (0: one per slice). */
  progressMs?: number;
  /** Least time between two `changed` calls. */
  throttleMs?: number;
  /** Dirty ranges grow to this alignment: a write of one byte can turn a whole block or cluster into data. */
  dirtyAlign?: number;
}

const MiB = 2 ** 20;
const SLICES_IN_FLIGHT = 2;
/**
 * A few thousand extents per query: a slice's answer passes through several lists of objects
 * in the chain, and lists that outlive a young-generation collection turn a 3 s scan of ten
 * million extents into 30 s (measured on a 1 TiB sparse-random disk with 16 GiB slices).
 */
const EXTENTS_PER_SLICE = 4096;
/**
 * Answers in descriptor form make no object per extent, here or in a server that has them so
 * (ours, for sparse-random): slices may be larger. Measured on a 10 M-extent sparse-random disk
 * served by us: 16384 per slice scanned in 0.9-1.2 s, 8192 in 1.1-1.2 s, 65536 in 1.5 s.
 */
const DESCRIPTORS_PER_SLICE = 16384;
const FIRST_SLICE = 256 * MiB;
/** 16 M runs, about 170 MB of model: the most a scan reserves ahead of the runs it has found. */
const RESERVE_MOST = 16 * 2 ** 20;

export class AllocationTracker {
  private model: AllocationModel;
  private source: ExtentSource;
  private readonly listener: AllocationListener;
  private readonly sliceBytes: number;
  private readonly throttleMs: number;
  private readonly progressMs: number;
  private lastProgressAt = 0;
  /** Bytes per extent in the last answer stored (0 before the first): sizes the scan's slices. */
  private bytesPerExtent = 0;
  /** The last answer came as descriptors (extent-descriptors.ts), so slices may be larger. */
  private wire = false;
  private readonly dirtyAlign: number;
  private queue: Promise<void> = Promise.resolve();
  /** Bumped by reset() and dispose(): work of an older generation stops. */
  private generation = 0;
  private disposed = false;
  private scanned = 0;
  private scanError: string | undefined;
  private scanDone: Promise<void> = Promise.resolve();
  private dirty: [number, number][] = [];
  private dirtyTimer: NodeJS.Timeout | null = null;
  private pendingChanged: [number, number][] = [];
  private changedTimer: NodeJS.Timeout | null = null;
  private lastChangedAt = 0;
  private _version = 0;
  /** The scan's answers in columns, one buffer reused from slice to slice. */
  private incoming = new RunColumns();

  constructor(source: ExtentSource, listener: AllocationListener, options: AllocationOptions = {}) {
    this.source = source;
    this.listener = listener;
    this.model = new AllocationModel(source.getSize());
    this.sliceBytes = options.sliceBytes ?? 0;
    this.throttleMs = options.throttleMs ?? 250;
    this.progressMs = options.progressMs ?? 200;
    this.dirtyAlign = options.dirtyAlign ?? MiB;
  }

  get version(): number {
    return this._version;
  }

  get current(): AllocationModel {
    return this.model;
  }

  get progress(): ScanProgress {
    const total = this.model.size;
    return { done: this.scanned, total, complete: this.scanned >= total && !this.scanError, error: this.scanError };
  }

  /** Scan the whole disk; resolves when the scan finished (or stopped on an error). */
  start(): Promise<void> {
    const gen = this.generation;
    this.scanned = 0;
    this.scanError = undefined;
    this.scanDone = this.scanFrom(0, gen);
    return this.scanDone;
  }

  /** Resolves once the current scan has finished. */
  whenScanned(): Promise<void> {
    return this.scanDone;
  }

  /** A new chain (filters toggled): forget everything and scan through the new source. */
  reset(source: ExtentSource): Promise<void> {
    this.generation++;
    this.source = source;
    this.model = new AllocationModel(source.getSize());
    this.dirty = [];
    this.noteChanged(0, this.model.size);
    return this.start();
  }

  private async scanFrom(offset: number, gen: number): Promise<void> {
    const size = this.model.size;
    this.listener.progress(this.progress);
    // Two slices in flight: while one answer is stored, the chain (a server process, a disk)
    // is already working on the next.
    const inFlight: { from: number; to: number; done: Promise<number> }[] = [];
    let next = offset;
    while ((next < size || inFlight.length) && gen === this.generation) {
      while (next < size && inFlight.length < SLICES_IN_FLIGHT) {
        const from = next;
        next = Math.min(size, from + this.nextSlice());
        // A scan that stops (an error, a reset) leaves the other slice unawaited: enqueue's
        // own chaining has handled its failure.
        inFlight.push({ from, to: next, done: this.enqueueQuery(gen, from, next) });
      }
      const { from, to, done } = inFlight.shift()!;
      try {
        await done;
      } catch (err) {
        if (gen !== this.generation) return;
        this.scanError = `extents query at ${from} failed: ${(err as Error).message}`;
        this.listener.progress(this.progress);
        return;
      }
      if (gen !== this.generation) return;
      this.scanned = to;
      this.reserveFor(offset, to);
      this.reportProgress();
      this.noteChanged(from, to);
      // Let IPC and the server run between slices.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  /** Bytes for the next scan query (see AllocationOptions.sliceBytes). */
  private nextSlice(): number {
    if (this.sliceBytes) return this.sliceBytes;
    const most = Math.min(64 * 1024 * MiB, Math.max(64 * MiB, Math.ceil(this.model.size / 64)));
    const wanted = this.bytesPerExtent ? this.bytesPerExtent * (this.wire ? DESCRIPTORS_PER_SLICE : EXTENTS_PER_SLICE) : FIRST_SLICE;
    return Math.min(most, Math.max(MiB, Math.round(wanted / MiB) * MiB));
  }

  /**
   * Size the model for the runs the scan will find, judged once 1/64 of the disk is scanned:
   * one big step rather than many 1.5x ones, each a copy of every run (on a 1 TiB disk of ten
   * million extents those copies took longer than the rest of the scan). A guess from a dense
   * start may be high, so it stops at RESERVE_MOST runs (the model's memory budget) and is
   * trimmed at the end.
   */
  private reserveFor(from: number, to: number): void {
    const model = this.model;
    if (to >= model.size) {
      model.trim();
      return;
    }
    if ((to - from) * 64 < model.size - from) return;
    // 10% over the estimate: a re-grow late in the scan copies every run once more.
    const expected = Math.ceil(((model.runCount * (model.size - from)) / (to - from)) * 1.1);
    const wanted = Math.min(expected, RESERVE_MOST);
    if (wanted > model.capacity * 1.25) model.reserve(wanted);
  }

  /** Scan progress, at most one call per progressMs but always the last. */
  private reportProgress(): void {
    const now = Date.now();
    if (this.scanned < this.model.size && now - this.lastProgressAt < this.progressMs) return;
    this.lastProgressAt = now;
    this.listener.progress(this.progress);
  }

  /**
   * Ask the chain about [from, to) until all of it is answered, and store the answers in queue
   * order. The asking starts now, outside the queue: a write after this moment is asked again
   * by a re-query queued behind this one, so a stale answer is still overwritten.
   */
  private enqueueQuery(gen: number, from: number, to: number): Promise<number> {
    const first = this.ask(from, to);
    // Settled in the queue below; until then a failure must not count as unhandled.
    first.catch(() => {});
    return this.enqueue(gen, async () => {
      let pos = await this.store(from, await first);
      while (pos < to && gen === this.generation) pos = await this.store(pos, await this.ask(pos, to));
      return pos;
    });
  }

  /** The chain's answer from `from`: as descriptors where it offers them, else as a list. */
  private async ask(from: number, to: number): Promise<readonly Extent[] | ExtentDescriptors> {
    const source = this.source;
    const d = !this.depths() && source.extentDescriptors ? await source.extentDescriptors(to - from, from) : null;
    this.wire = d !== null;
    return d ?? source.extents(to - from, from);
  }

  /** Store an answer from `offset` (with depths, for chains that report them); returns where it ends. */
  private async store(offset: number, answer: readonly Extent[] | ExtentDescriptors): Promise<number> {
    if (!isList(answer)) return this.storeDescriptors(offset, answer);
    const extents = answer;
    if (extents.length === 0) throw new Error(`the chain returned no extents at ${offset}`);
    const end = extents[extents.length - 1]!.offset + extents[extents.length - 1]!.length;
    const depths = this.depths();
    if (depths) {
      const runs: Run[] = extents.map((e) => ({ offset: e.offset, length: e.length, cls: binClassOfFlags(e.flags) }));
      this.model.replace(offset, end, withDepths(runs, await depths(end - offset, offset)));
    } else {
      const cols = this.incoming;
      cols.clear();
      for (const e of extents) cols.push(e.offset, binClassOfFlags(e.flags));
      this.model.replaceColumns(offset, end, cols);
    }
    this.bytesPerExtent = (end - offset) / extents.length;
    this._version++;
    return end;
  }

  /** How to ask which layer holds each range, for chains that say (image chains with backing files); else null. */
  private depths(): ExtentSource['allocationDepth'] | null {
    const source = this.source;
    return source.allocationDepth && source.canAllocationDepth?.() ? source.allocationDepth.bind(source) : null;
  }

  /** Descriptors go into the model's columns as they are: no object per extent. */
  private storeDescriptors(offset: number, d: ExtentDescriptors): number {
    const cols = this.incoming;
    cols.clear();
    const end = forEachDescriptor(d, (start, _length, flags) => cols.push(start, binClassOfFlags(flags)));
    this.model.replaceColumns(offset, end, cols);
    this.bytesPerExtent = (end - offset) / cols.count;
    this._version++;
    return end;
  }

  private enqueue<T>(gen: number, work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(() => {
      if (gen !== this.generation) throw new Error('superseded');
      return work();
    });
    this.queue = run.then(() => undefined, () => undefined);
    return run;
  }

  /** A write, trim or zero went through the chain here. */
  markDirty(offset: number, length: number): void {
    if (this.disposed || length <= 0) return;
    const size = this.model.size;
    const start = Math.max(0, Math.floor(offset / this.dirtyAlign) * this.dirtyAlign);
    const end = Math.min(size, Math.ceil((offset + length) / this.dirtyAlign) * this.dirtyAlign);
    if (start >= end) return;
    this.dirty = mergeRange(this.dirty, start, end);
    this.dirtyTimer ??= setTimeout(() => {
      this.dirtyTimer = null;
      void this.refreshDirty();
    }, Math.min(100, this.throttleMs));
  }

  private async refreshDirty(): Promise<void> {
    const gen = this.generation;
    const ranges = this.dirty;
    this.dirty = [];
    for (const [start, end] of ranges) {
      let pos = start;
      try {
        // In slices, as the scan asks: a trim of the whole disk may bring back every extent.
        while (pos < end && gen === this.generation) pos = await this.enqueueQuery(gen, pos, Math.min(end, pos + this.nextSlice()));
      } catch {
        // A failed re-query leaves the old answer; the next write there tries again.
      }
      if (gen === this.generation) this.noteChanged(start, Math.min(pos, end));
    }
  }

  /** Coalesce change notices to one `changed` call per throttle period. */
  private noteChanged(start: number, end: number): void {
    if (this.disposed || start >= end) return;
    this.pendingChanged = mergeRange(this.pendingChanged, start, end);
    if (this.changedTimer) return;
    const wait = Math.max(0, this.lastChangedAt + this.throttleMs - Date.now());
    this.changedTimer = setTimeout(() => {
      this.changedTimer = null;
      this.lastChangedAt = Date.now();
      const ranges = this.pendingChanged;
      this.pendingChanged = [];
      if (!this.disposed && ranges.length) this.listener.changed(ranges, this._version);
    }, wait);
  }

  dispose(): void {
    this.disposed = true;
    this.generation++;
    if (this.dirtyTimer) clearTimeout(this.dirtyTimer);
    if (this.changedTimer) clearTimeout(this.changedTimer);
    this.dirtyTimer = this.changedTimer = null;
  }
}

function isList(answer: readonly Extent[] | ExtentDescriptors): answer is readonly Extent[] {
  return Array.isArray(answer);
}
