// Keeps an AllocationModel true to what an NBD client's BLOCK_STATUS would say: a scan asks
// the chain for extents from 0 to the end in big slices, yielding to the event loop between
// them, and writes that pass through the server mark ranges dirty, which are asked again a
// moment later. Every query-and-update runs in one queue, so an answer that was in flight
// while a write landed is overwritten by the re-query that write caused, never the reverse.
import type { ScanState } from '../../shared/ipc.ts';
import { binClassOfFlags } from '../../shared/bins.ts';
import type { Extent } from '../../shared/extents.ts';
import type { DepthExtent } from '../backend/types.ts';
import { AllocationModel, withDepths, type Run } from './allocation-model.ts';

/** What the tracker asks: the top of an open, read-only chain (LayerContext fits). */
export interface ExtentSource {
  getSize(): number;
  extents(count: number, offset: number, flags?: number): Promise<Extent[]>;
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
  /** Bytes per extents query; by default about 1/64 of the disk, between 64 MiB and 64 GiB. */
  sliceBytes?: number;
  /** Least time between two `changed` calls. */
  throttleMs?: number;
  /** Dirty ranges grow to this alignment: a write of one byte can turn a whole block or cluster into data. */
  dirtyAlign?: number;
}

const MiB = 2 ** 20;

export class AllocationTracker {
  private model: AllocationModel;
  private source: ExtentSource;
  private readonly listener: AllocationListener;
  private readonly sliceBytes: number;
  private readonly throttleMs: number;
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

  constructor(source: ExtentSource, listener: AllocationListener, options: AllocationOptions = {}) {
    this.source = source;
    this.listener = listener;
    this.model = new AllocationModel(source.getSize());
    this.sliceBytes = options.sliceBytes ?? 0;
    this.throttleMs = options.throttleMs ?? 250;
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
    const slice = this.sliceBytes || Math.min(64 * 1024 * MiB, Math.max(64 * MiB, Math.ceil(size / 64)));
    let pos = offset;
    this.listener.progress(this.progress);
    while (pos < size && gen === this.generation) {
      const from = pos;
      try {
        pos = await this.enqueue(gen, () => this.query(from, Math.min(slice, size - from)));
      } catch (err) {
        if (gen !== this.generation) return;
        this.scanError = `extents query at ${from} failed: ${(err as Error).message}`;
        this.listener.progress(this.progress);
        return;
      }
      if (gen !== this.generation) return;
      this.scanned = pos;
      this.listener.progress(this.progress);
      this.noteChanged(from, pos);
      // Let IPC and the server run between slices.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  /** Ask the chain about [offset, offset+count) and store the answer; returns where the answer ends. */
  private async query(offset: number, count: number): Promise<number> {
    const extents = await this.source.extents(count, offset);
    if (extents.length === 0) throw new Error(`the chain returned no extents for ${count} bytes at ${offset}`);
    let runs: Run[] = extents.map((e) => ({ offset: e.offset, length: e.length, cls: binClassOfFlags(e.flags) }));
    const end = extents[extents.length - 1]!.offset + extents[extents.length - 1]!.length;
    if (this.source.allocationDepth && this.source.canAllocationDepth?.()) {
      runs = withDepths(runs, await this.source.allocationDepth(end - offset, offset));
    }
    this.model.replace(offset, end, runs);
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
        while (pos < end && gen === this.generation) {
          const from = pos;
          pos = await this.enqueue(gen, () => this.query(from, end - from));
        }
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

/** Insert [start, end) into a sorted list of disjoint ranges, merging what touches it. */
export function mergeRange(ranges: [number, number][], start: number, end: number): [number, number][] {
  const out: [number, number][] = [];
  let s = start;
  let e = end;
  let placed = false;
  for (const [rs, re] of ranges) {
    if (re < s) out.push([rs, re]);
    else if (rs > e) {
      if (!placed) out.push([s, e]);
      placed = true;
      out.push([rs, re]);
    } else {
      s = Math.min(s, rs);
      e = Math.max(e, re);
    }
  }
  if (!placed) out.push([s, e]);
  return out;
}
