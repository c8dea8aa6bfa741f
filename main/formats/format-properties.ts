// Test support for the format properties (*.prop.test.ts): each image is built once per
// file, opened through the real backend, and checked against qemu with random queries:
// reads at any offset and length equal qemu-img convert's bytes; extents start where they
// were asked, tile the request (the plugin itself: exactly, without REQ_ONE), claim zero
// only where the bytes are zero, and agree with qemu-img map wherever that is an oracle.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { extentTriples, pushExtent, type Extent } from '../../shared/extents.ts';
import { FLAG_REQ_ONE } from '../backend/flags.ts';
import { mapOf, readAll } from '../backend/testing.ts';
import type { PluginDefinition, PluginHandle, PluginInstance } from '../backend/types.ts';
import { propertyParams, propertyTimeout } from '../testing/property-params.ts';
import { openImagePlugin, type OpenedImage } from './layered-testing.ts';
import { MiB, SECTOR } from './prop-layouts.ts';
import type { ExtentTriple } from './qemu-oracle.ts';

export interface OracleImage {
  /** The top image of the chain. */
  file: string;
  plugin: PluginDefinition;
  /** Every guest byte as qemu-img convert -O raw reads it (or as the test built it, where qemu cannot read the chain). */
  bytes: Buffer;
  /** The whole map as qemu-img map gives it, where that is an oracle for this image. */
  qemuMap?: ExtentTriple[];
}

export interface ImageCase {
  name: string;
  build(): OracleImage | Promise<OracleImage>;
}

export interface PropertyRuns {
  reads: number;
  extents: number;
}

const MAX_QUERY = 8 * MiB;

/** Offsets anywhere, on sectors, on 64 KiB, or within a few sectors of a map boundary. */
function offsetArb(size: number, boundaries: readonly number[]): fc.Arbitrary<number> {
  const clamp = (n: number) => Math.max(0, Math.min(size - 1, n));
  return fc.oneof(
    fc.integer({ min: 0, max: size - 1 }),
    fc.integer({ min: 0, max: Math.floor((size - 1) / SECTOR) }).map((s) => s * SECTOR),
    fc.integer({ min: 0, max: Math.floor((size - 1) / 65536) }).map((c) => c * 65536),
    fc.tuple(fc.constantFrom(...boundaries), fc.integer({ min: -2048, max: 2048 })).map(([b, d]) => clamp(b + d)),
  );
}

/** A range inside the disk: 1 byte to 8 MiB, often sector multiples. */
function rangeArb(size: number, boundaries: readonly number[]): fc.Arbitrary<[number, number]> {
  const length = fc.oneof(
    fc.integer({ min: 1, max: 4096 }),
    fc.integer({ min: 1, max: MAX_QUERY / SECTOR }).map((s) => s * SECTOR),
    fc.integer({ min: 1, max: MAX_QUERY }),
  );
  return fc.tuple(offsetArb(size, boundaries), length).map(([offset, n]): [number, number] => [offset, Math.max(1, Math.min(n, size - offset))]);
}

function firstNonZero(bytes: Buffer, from: number, to: number): number {
  for (let i = from; i < to; i++) if (bytes[i] !== 0) return i;
  return -1;
}

/** `map` clipped to the disk (qemu maps a raw file's last partial sector past its end). */
function clip(map: readonly ExtentTriple[], size: number): ExtentTriple[] {
  return map.filter(([o]) => o < size).map(([o, l, f]): ExtentTriple => [o, Math.min(l, size - o), f]);
}

/** Sectors a map boundary cuts: the backend reports such a sector by what all its pieces share. */
function cutSectors(reference: readonly ExtentTriple[]): Set<number> {
  const out = new Set<number>();
  for (const [o] of reference) if (o % SECTOR !== 0) out.add(Math.floor(o / SECTOR));
  return out;
}

class Reference {
  private readonly starts: number[];
  private readonly cut: Set<number>;

  constructor(readonly map: readonly ExtentTriple[]) {
    this.starts = map.map(([o]) => o);
    this.cut = cutSectors(map);
  }

  /**
   * An extent must say what the map says over every byte it covers. Less is allowed only in a
   * sector the map cuts (data where part of it is zero); claiming more never is.
   */
  check(e: Extent, what: string): void {
    let i = this.index(e.offset);
    const end = e.offset + e.length;
    for (; i < this.map.length && this.map[i]![0] < end; i++) {
      const [o, l, flags] = this.map[i]!;
      const p = Math.max(o, e.offset);
      const q = Math.min(o + l, end);
      if (e.flags === flags) continue;
      const weaker = (e.flags & ~flags) === 0;
      const inCutSector = Math.floor(p / SECTOR) === Math.floor((q - 1) / SECTOR) && this.cut.has(Math.floor(p / SECTOR));
      if (!weaker || !inCutSector) {
        expect.fail(`${what}: extent [${e.offset}, +${e.length}) flags ${e.flags}, but [${p}, ${q}) has flags ${flags} in the map`);
      }
    }
  }

  private index(offset: number): number {
    let lo = 0;
    let hi = this.starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.starts[mid]! <= offset) lo = mid + 1;
      else hi = mid;
    }
    return Math.max(0, lo - 1);
  }
}

/** Contiguous from `offset`, inside the request, zero only over zero bytes, as the map says. */
function checkList(list: readonly Extent[], offset: number, count: number, bytes: Buffer, reference: Reference, what: string): number {
  expect(list.length, `${what}: empty answer`).toBeGreaterThan(0);
  let pos = offset;
  for (const e of list) {
    expect(e.offset, `${what}: not contiguous`).toBe(pos);
    expect(e.length, `${what}: empty extent`).toBeGreaterThan(0);
    pos += e.length;
    if (e.flags & 3) {
      const at = firstNonZero(bytes, e.offset, pos);
      if (at >= 0) expect.fail(`${what}: extent [${e.offset}, +${e.length}) flags ${e.flags} claims zero, but byte ${at} is 0x${bytes[at]!.toString(16)}`);
    }
    reference.check(e, what);
  }
  expect(pos, `${what}: answer runs past the request`).toBeLessThanOrEqual(offset + count);
  return pos;
}

/** One image, opened twice: through the backend (as clients see it) and as the bare plugin. */
interface Subject {
  image: OracleImage;
  opened: OpenedImage;
  instance: PluginInstance;
  handle: PluginHandle;
  /** Our whole map, asked from 0 without REQ_ONE. */
  ours: ExtentTriple[];
  /** qemu's map where it is an oracle, else ours: every answer must agree with it. */
  reference: Reference;
}

async function openSubject(c: ImageCase): Promise<Subject> {
  const image = await c.build();
  const opened = await openImagePlugin(image.plugin, image.file);
  const instance = await image.plugin.create({ file: image.file });
  const handle = await instance.open({ readonly: true, exportName: '' });
  const ours = await mapOf(opened.chain);
  const reference = new Reference(image.qemuMap ? clip(image.qemuMap, image.bytes.length) : ours);
  return { image, opened, instance, handle, ours, reference };
}

async function closeSubject(s: Subject | undefined): Promise<void> {
  await s?.handle.close?.();
  await s?.instance.unload?.();
  await s?.opened.close();
}

function queries(s: Subject): fc.Arbitrary<[number, number]> {
  const boundaries = [...new Set([0, ...s.reference.map.flatMap(([o, l]) => [o, o + l - 1])])];
  return rangeArb(s.image.bytes.length, boundaries);
}

/** Walk the disk as qemu's NBD client does: REQ_ONE, from where each answer ended. */
async function walkWithReqOne(s: Subject): Promise<ExtentTriple[]> {
  const size = s.image.bytes.length;
  const walked: Extent[] = [];
  for (let pos = 0; pos < size;) {
    const [e] = await s.opened.chain.top.extents(size - pos, pos, FLAG_REQ_ONE);
    pushExtent(walked, e!.offset, e!.length, e!.flags);
    pos = e!.offset + e!.length;
  }
  return extentTriples(walked);
}

function readsProperty(s: Subject): fc.IAsyncProperty<[[number, number]]> {
  return fc.asyncProperty(queries(s), async ([offset, count]) => {
    const got = await readAll(s.opened.chain, offset, count);
    const want = s.image.bytes.subarray(offset, offset + count);
    if (!got.equals(want)) {
      const i = got.findIndex((b, k) => b !== want[k]);
      expect.fail(`read [${offset}, +${count}): byte ${offset + i} is 0x${got[i]!.toString(16)}, qemu reads 0x${want[i]!.toString(16)}`);
    }
  });
}

function pluginExtentsProperty(s: Subject): fc.IAsyncProperty<[[number, number], boolean]> {
  return fc.asyncProperty(queries(s), fc.boolean(), async ([offset, count], reqOne) => {
    const list = [...(await s.handle.extents!(count, offset, reqOne ? FLAG_REQ_ONE : 0))].sort((a, b) => a.offset - b.offset);
    const what = `plugin extents(${count}, ${offset}${reqOne ? ', REQ_ONE' : ''})`;
    const end = checkList(list, offset, count, s.image.bytes, s.reference, what);
    // Without REQ_ONE the backend takes whatever follows the last extent for a hole.
    if (!reqOne) expect(end, `${what}: stops short of the request`).toBe(offset + count);
  });
}

function backendExtentsProperty(s: Subject): fc.IAsyncProperty<[[number, number], boolean]> {
  const size = s.image.bytes.length;
  return fc.asyncProperty(queries(s), fc.boolean(), async ([offset, count], reqOne) => {
    const list = await s.opened.chain.top.extents(count, offset, reqOne ? FLAG_REQ_ONE : 0);
    const what = `extents(${count}, ${offset}${reqOne ? ', REQ_ONE' : ''})`;
    if (reqOne) expect(list, `${what}: REQ_ONE answered with ${list.length} extents`).toHaveLength(1);
    checkList(list, offset, count, s.image.bytes, s.reference, what);
    for (const e of list) {
      if (e.flags === 0) continue;
      const end = e.offset + e.length;
      expect(e.offset % SECTOR === 0 || e.offset === offset, `${what}: zero extent starts inside a sector at ${e.offset}`).toBe(true);
      expect(end % SECTOR === 0 || end === size || end === offset + count, `${what}: zero extent ends inside a sector at ${end}`).toBe(true);
    }
  });
}

/** Register the properties for each case; each image is built and opened once per file. */
export function describeImageProperties(cases: readonly ImageCase[], runs: PropertyRuns): void {
  describe.each(cases)('$name', (c) => {
    let s: Subject | undefined;
    beforeAll(async () => {
      s = await openSubject(c);
    }, propertyTimeout(120_000));
    afterAll(() => closeSubject(s));
    const timeout = propertyTimeout(60_000);

    it('has the size and whole map qemu reports', () => {
      expect(s!.opened.chain.top.getSize()).toBe(s!.image.bytes.length);
      if (s!.image.qemuMap) expect(s!.ours).toEqual(s!.reference.map);
    });

    it('rebuilds the whole map from REQ_ONE answers, as qemu asks', async () => {
      expect(await walkWithReqOne(s!)).toEqual(s!.reference.map);
    });

    it('reads any range as qemu-img convert does', { timeout }, async () => {
      await fc.assert(readsProperty(s!), propertyParams(runs.reads));
    });

    it('answers extents for the whole request itself (the plugin, before the backend)', { timeout }, async () => {
      await fc.assert(pluginExtentsProperty(s!), propertyParams(runs.extents));
    });

    it('answers extents through the backend, with and without REQ_ONE', { timeout }, async () => {
      await fc.assert(backendExtentsProperty(s!), propertyParams(runs.extents));
    });
  });
}
