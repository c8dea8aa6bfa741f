// The one choke point (nbdkit's backend.c). Every layer of an open chain is wrapped in a
// LayerContext: it checks ranges and flags before a callback runs, answers can* once per
// connection, passes callbacks a filter left out to the layer below, emulates zeroing,
// FUA and CACHE where a layer cannot do them, and normalises extents. Plugins and
// filters behind it can stay naive. It is a little over 300 lines on purpose: every check
// and emulation in one file is what makes it the one place to read (as backend.c is).
import { EXTENT_DATA, type Extent } from '../../shared/extents.ts';
import { BlockError, errnoOf } from './errors.ts';
import { clipDescriptors, descriptorsAreClean, type ExtentDescriptors } from './extent-descriptors.ts';
import { extentsEnd, normalizeExtents } from './extents.ts';
import { alignToSectors, isNormalized, isSectorAligned, SECTOR } from './sector-align.ts';
import { FLAG_FAST_ZERO, FLAG_FUA, FLAG_MAY_TRIM, FLAG_REQ_ONE, type Support } from './flags.ts';
import type { BlockSizes, DepthExtent, FileRange, LayerCallbacks, Next } from './types.ts';

/** Writes emulating zero or cache are split into pieces of this size. */
export const EMULATION_CHUNK = 1 << 20;
let zeroBuffer: Buffer | null = null;
/** A shared read-only buffer of `length` (at most EMULATION_CHUNK) zero bytes. */
export function zeroes(length: number): Buffer {
  zeroBuffer ??= Buffer.alloc(EMULATION_CHUNK);
  return zeroBuffer.subarray(0, length);
}

interface Capabilities {
  size: number;
  write: boolean;
  flush: boolean;
  rotational: boolean;
  trim: boolean;
  zero: boolean;
  fastZero: boolean;
  fua: Support;
  multiConn: boolean;
  cache: Support;
  blockSize: BlockSizes | null;
  extents: boolean;
  allocationDepth: boolean;
}

/** The NBD spec's rules for advertised sizes; a layer that breaks them cannot be served. */
function checkBlockSizes(name: string, sizes: BlockSizes | null): BlockSizes | null {
  if (!sizes) return null;
  const { minimum, preferred, maximum } = sizes;
  const powerOf2 = (n: number) => Number.isSafeInteger(n) && n > 0 && (n & (n - 1)) === 0;
  if (!powerOf2(minimum) || minimum > 65536 || !powerOf2(preferred) || preferred < minimum ||
      !Number.isSafeInteger(maximum) || maximum < preferred || maximum > 0xffffffff) {
    throw new BlockError('EINVAL', `${name}: block sizes minimum ${minimum}, preferred ${preferred}, maximum ${maximum} break the NBD rules`);
  }
  return sizes;
}

export class LayerContext implements Next {
  readonly name: string;
  private readonly layer: LayerCallbacks;
  /** Replaced only when a filter reopens the layers below it (replaceBelow). */
  private below: LayerContext | null;
  private readonly readonly: boolean;
  private caps!: Capabilities;
  private outermost = false;

  constructor(name: string, layer: LayerCallbacks, below: LayerContext | null, readonly: boolean) {
    this.name = name;
    this.layer = layer;
    this.below = below;
    this.readonly = readonly;
  }

  /** Ask every can* question once, in nbdkit's order; the answers hold for the connection. */
  async prepare(): Promise<void> {
    const l = this.layer;
    const b = this.below;
    const size = l.getSize ? await l.getSize() : b!.getSize();
    if (!Number.isSafeInteger(size) || size < 0) {
      throw new BlockError('EINVAL', `${this.name}: size ${size} is not an exact byte count (Blockscope handles sizes up to 2^53)`);
    }
    const ask = async (own: (() => boolean | Promise<boolean>) | undefined, inherited: () => boolean, dflt: boolean) =>
      own ? Boolean(await own.call(l)) : b ? inherited() : dflt;
    const write = !this.readonly && (await ask(l.canWrite, () => b!.canWrite(), l.pwrite !== undefined));
    const flush = await ask(l.canFlush, () => b!.canFlush(), l.flush !== undefined);
    const rotational = await ask(l.isRotational, () => b!.isRotational(), false);
    const trim = write && (await ask(l.canTrim, () => b!.canTrim(), l.trim !== undefined));
    // Zeroing is always possible on a writable layer: the backend writes zeroes if need be.
    const zero = write && (await ask(l.canZero, () => b!.canZero(), true));
    const fastZero = zero && (await ask(l.canFastZero, () => b!.canFastZero(), true));
    let fua: Support = 'none';
    if (write) fua = l.canFua ? await l.canFua() : b ? b.canFua() : flush ? 'emulate' : 'none';
    if (fua === 'emulate' && !flush) fua = 'none';
    const multiConn = await ask(l.canMultiConn, () => b!.canMultiConn(), false);
    const cache: Support = l.canCache ? await l.canCache() : b ? b.canCache() : l.cache ? 'native' : 'emulate';
    const blockSize = checkBlockSizes(this.name, l.blockSize ? await l.blockSize() : b ? b.blockSize() : null);
    const extents = await ask(l.canExtents, () => b!.canExtents(), l.extents !== undefined);
    const changesExtents = l.extents !== undefined || l.canExtents !== undefined;
    const allocationDepth = l.allocationDepth !== undefined || (!changesExtents && b !== null && b.canAllocationDepth());
    this.caps = { size, write, flush, rotational, trim, zero, fastZero, fua, multiConn, cache, blockSize, extents, allocationDepth };
  }

  getSize(): number { return this.caps.size; }
  canWrite(): boolean { return this.caps.write; }
  canFlush(): boolean { return this.caps.flush; }
  isRotational(): boolean { return this.caps.rotational; }
  canTrim(): boolean { return this.caps.trim; }
  canZero(): boolean { return this.caps.zero; }
  canFastZero(): boolean { return this.caps.fastZero; }
  canFua(): Support { return this.caps.fua; }
  canMultiConn(): boolean { return this.caps.multiConn; }
  canCache(): Support { return this.caps.cache; }
  blockSize(): BlockSizes | null { return this.caps.blockSize; }
  canExtents(): boolean { return this.caps.extents; }
  canAllocationDepth(): boolean { return this.caps.allocationDepth; }

  private checkRange(op: string, count: number, offset: number): void {
    if (!Number.isSafeInteger(count) || !Number.isSafeInteger(offset) || count <= 0 || offset < 0 ||
        offset + count > this.caps.size) {
      throw new BlockError(op === 'pwrite' || op === 'zero' ? 'ENOSPC' : 'EINVAL',
        `${this.name}: ${op} of ${count} bytes at ${offset} is outside the disk (size ${this.caps.size})`);
    }
  }

  private checkFlags(op: string, flags: number, allowed: number): void {
    if (flags & ~allowed) throw new BlockError('EINVAL', `${this.name}: ${op}: unsupported flags 0x${flags.toString(16)}`);
  }

  private checkWritable(op: string): void {
    if (!this.caps.write) throw new BlockError('EPERM', `${this.name}: ${op}: the disk is read-only`);
  }

  /** Flags passed down: FUA is stripped when this layer emulates it with a flush afterwards. */
  private async withFua(flags: number, run: (flags: number) => Promise<void> | void): Promise<void> {
    if (flags & FLAG_FUA && this.caps.fua === 'emulate') {
      await run(flags & ~FLAG_FUA);
      await this.flush(0);
    } else {
      await run(flags);
    }
  }

  async pread(buf: Buffer, offset: number, flags = 0): Promise<void> {
    this.checkRange('pread', buf.length, offset);
    this.checkFlags('pread', flags, FLAG_FUA);
    if (this.layer.pread) await this.layer.pread(buf, offset, flags);
    else await this.below!.pread(buf, offset, flags);
  }

  fileRange(count: number, offset: number): FileRange | null {
    this.checkRange('pread', count, offset);
    const l = this.layer;
    if (l.fileRange) return l.fileRange(count, offset);
    return !l.pread && this.below ? this.below.fileRange(count, offset) : null;
  }

  passThroughFile(): number | null {
    const l = this.layer;
    if (l.passThroughFile) return l.passThroughFile();
    return !l.pread && !l.pwrite && !l.flush && this.below ? this.below.passThroughFile() : null;
  }

  passThroughExtents(): boolean {
    const l = this.layer;
    if (!this.caps.extents) return false;
    if (l.passThroughFile) return l.passThroughFile() !== null;
    const changesExtents = l.extents !== undefined || l.canExtents !== undefined || l.extentDescriptors !== undefined;
    return !changesExtents && !l.pread && !l.pwrite && !l.flush && this.below !== null && this.below.passThroughExtents();
  }

  async pwrite(buf: Buffer, offset: number, flags = 0): Promise<void> {
    this.checkWritable('pwrite');
    this.checkRange('pwrite', buf.length, offset);
    this.checkFlags('pwrite', flags, FLAG_FUA);
    const l = this.layer;
    await this.withFua(flags, (f) => (l.pwrite ? l.pwrite(buf, offset, f) : this.below!.pwrite(buf, offset, f)));
  }

  async flush(flags = 0): Promise<void> {
    this.checkFlags('flush', flags, 0);
    if (!this.caps.flush) throw new BlockError('EINVAL', `${this.name}: flush is not supported`);
    if (this.layer.flush) await this.layer.flush(flags);
    else if (this.below) await this.below.flush(flags);
  }

  async trim(count: number, offset: number, flags = 0): Promise<void> {
    this.checkWritable('trim');
    this.checkRange('trim', count, offset);
    this.checkFlags('trim', flags, FLAG_FUA);
    if (!this.caps.trim) throw new BlockError('EINVAL', `${this.name}: trim is not supported`);
    const l = this.layer;
    await this.withFua(flags, (f) => (l.trim ? l.trim(count, offset, f) : this.below!.trim(count, offset, f)));
  }

  async zero(count: number, offset: number, flags = 0): Promise<void> {
    this.checkWritable('zero');
    this.checkRange('zero', count, offset);
    this.checkFlags('zero', flags, FLAG_FUA | FLAG_MAY_TRIM | FLAG_FAST_ZERO);
    if (flags & FLAG_FAST_ZERO && !this.caps.fastZero) {
      throw new BlockError('ENOTSUP', `${this.name}: fast zero is not supported`);
    }
    await this.withFua(flags, (f) => this.zeroOrEmulate(count, offset, f));
  }

  private async zeroOrEmulate(count: number, offset: number, flags: number): Promise<void> {
    const l = this.layer;
    // A layer that intercepts writes but not zeroing gets zeroes written through its own
    // pwrite; otherwise zeroing passes down.
    if (!l.zero && !l.pwrite && this.below) return this.below.zero(count, offset, flags);
    if (l.zero) {
      try {
        await l.zero(count, offset, flags);
        return;
      } catch (err) {
        const code = errnoOf(err);
        if (code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') throw err;
      }
    }
    if (flags & FLAG_FAST_ZERO) {
      throw new BlockError('ENOTSUP', `${this.name}: zeroing would be emulated by writing, which is not fast`);
    }
    for (let done = 0; done < count; done += EMULATION_CHUNK) {
      const n = Math.min(EMULATION_CHUNK, count - done);
      const chunk = zeroes(n);
      // FUA is still set here only if this layer does it natively: each piece must honour it.
      if (l.pwrite) await l.pwrite(chunk, offset + done, flags & FLAG_FUA);
      else throw new BlockError('EPERM', `${this.name}: cannot write zeroes: the layer has no pwrite`);
    }
  }

  async cache(count: number, offset: number, flags = 0): Promise<void> {
    this.checkRange('cache', count, offset);
    this.checkFlags('cache', flags, 0);
    const l = this.layer;
    switch (this.caps.cache) {
      case 'none':
        throw new BlockError('EINVAL', `${this.name}: cache is not supported`);
      case 'native':
        if (l.cache) return void (await l.cache(count, offset, flags));
        return this.below!.cache(count, offset, flags);
      case 'emulate': {
        // Reading is what makes the layers below keep the data warm.
        const scratch = Buffer.allocUnsafe(Math.min(EMULATION_CHUNK, count));
        for (let done = 0; done < count; done += scratch.length) {
          const n = Math.min(scratch.length, count - done);
          await this.pread(scratch.subarray(0, n), offset + done, 0);
        }
      }
    }
  }

  /**
   * Sorted, contiguous extents from `offset`, covering as much of the range as the layers
   * answered for (never more). The outermost layer also keeps every hole or zero boundary on
   * a sector boundary (sector-align.ts).
   */
  async extents(count: number, offset: number, flags = 0): Promise<Extent[]> {
    this.checkRange('extents', count, offset);
    this.checkFlags('extents', flags, FLAG_REQ_ONE);
    let list = this.outermost ? await this.sectorExtents(count, offset, flags) : await this.layerExtents(count, offset, flags);
    if (flags & FLAG_REQ_ONE && list.length > 1) list = list.slice(0, 1);
    return list;
  }

  private async layerExtents(count: number, offset: number, flags: number): Promise<Extent[]> {
    if (!this.caps.extents) return [{ offset, length: count, flags: EXTENT_DATA }];
    if (this.layer.extents) {
      // Only a plugin's own answer speaks for the tail of the range: a full one (no REQ_ONE),
      // or an empty one, which the seed defines as "all of it is a hole".
      const raw = await this.layer.extents(count, offset, flags);
      const tailIsHole = this.below === null && ((flags & FLAG_REQ_ONE) === 0 || raw.length === 0);
      // A clean answer is only copied as a list (the caller may append to it), not per extent.
      if (isNormalized(raw, offset, count, tailIsHole)) return raw.slice();
      return normalizeExtents(this.name, raw, offset, count, { tailIsHole });
    }
    if (this.below) return this.below.extents(count, offset, flags);
    return [{ offset, length: count, flags: EXTENT_DATA }];
  }

  /**
   * extents() in descriptor form where a plugin offers it and every filter above passes
   * extents through (as fileRange does for reads); null otherwise, and null for an answer
   * extents() would have changed (descriptorsAreClean): the caller asks extents() then.
   */
  async extentDescriptors(count: number, offset: number): Promise<ExtentDescriptors | null> {
    this.checkRange('extents', count, offset);
    if (!this.caps.extents) return null;
    // The outermost layer asks for whole sectors and cuts the answer back to the range, as
    // sectorExtents does: clients ask off the grid (nbdinfo --map in 4 GiB - 1 steps), and
    // each such request once took the list path, ten times the work.
    const end = offset + count;
    const from = this.outermost ? offset - (offset % SECTOR) : offset;
    const to = this.outermost ? Math.min(this.caps.size, Math.ceil(end / SECTOR) * SECTOR) : end;
    const l = this.layer;
    let d: ExtentDescriptors | null = null;
    if (l.extentDescriptors) d = await l.extentDescriptors(to - from, from);
    else if (!l.extents && this.below) d = await this.below.extentDescriptors(to - from, from);
    if (!d || !descriptorsAreClean(d, from, to - from, this.outermost ? this.caps.size : null)) return null;
    return from === offset && to === end ? d : clipDescriptors(d, offset, end);
  }

  /** Ask for whole sectors, settle the shared ones, then clip back to what was asked. */
  private async sectorExtents(count: number, offset: number, flags: number): Promise<Extent[]> {
    const end = offset + count;
    const from = offset - (offset % SECTOR);
    const to = Math.min(this.caps.size, Math.ceil(end / SECTOR) * SECTOR);
    const list = await this.layerExtents(to - from, from, flags);
    // An answer that stopped inside a sector (REQ_ONE below, a reply cap) cannot tell what
    // that sector is: ask on until it is complete, so the reply does not end in crumbs.
    const stopped = extentsEnd(list, from);
    const sectorEnd = Math.min(to, Math.ceil(stopped / SECTOR) * SECTOR);
    for (let pos = stopped; pos < sectorEnd; pos = extentsEnd(list, pos)) {
      for (const e of await this.layerExtents(to - pos, pos, flags)) list.push(e);
    }
    const aligned = isSectorAligned(list, this.caps.size) ? list : alignToSectors(list, this.caps.size);
    // A request on sector boundaries got whole sectors from below: nothing to clip.
    if (from === offset && to === end && aligned.length > 0) return aligned;
    const out: Extent[] = [];
    for (const e of aligned) {
      const start = Math.max(e.offset, offset);
      const stop = Math.min(e.offset + e.length, end);
      if (stop > start) out.push({ offset: start, length: stop - start, flags: e.flags });
    }
    if (out.length === 0) {
      // The answer stopped inside the sector before `offset`: say nothing false about the rest.
      return [{ offset, length: Math.min(count, SECTOR - (offset % SECTOR)), flags: EXTENT_DATA }];
    }
    return out;
  }

  /**
   * The layers below were reopened (a filter's Reopen): pass-through callbacks go to the new
   * ones. The can* answers stay this connection's, as in nbdkit, so a filter that reopens
   * read-only checks `next.canWrite()` itself.
   */
  replaceBelow(below: LayerContext): void {
    this.below = below;
  }

  /** This layer answers clients (the NBD connection, the app's map): see sectorExtents. */
  markOutermost(): void {
    this.outermost = true;
  }

  /** Depth extents clipped to [offset, offset+count); the layer must cover the range. */
  async allocationDepth(count: number, offset: number): Promise<DepthExtent[]> {
    this.checkRange('allocationDepth', count, offset);
    if (!this.caps.allocationDepth) throw new BlockError('EINVAL', `${this.name}: allocation depth is not available`);
    if (!this.layer.allocationDepth) return this.below!.allocationDepth(count, offset);
    const end = offset + count;
    const out: DepthExtent[] = [];
    let pos = offset;
    for (const e of await this.layer.allocationDepth(count, offset)) {
      const start = Math.max(e.offset, pos);
      const stop = Math.min(e.offset + e.length, end);
      if (e.offset > pos) throw new BlockError('EIO', `${this.name}: allocation depth leaves [${pos}, ${e.offset}) uncovered`);
      if (stop <= start) continue;
      out.push({ offset: start, length: stop - start, depth: e.depth });
      pos = stop;
      if (pos >= end) break;
    }
    if (pos < end) throw new BlockError('EIO', `${this.name}: allocation depth stops at ${pos}, before ${end}`);
    return out;
  }

  async close(): Promise<void> {
    await this.layer.close?.();
  }
}
