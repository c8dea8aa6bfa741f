// Random filter stacks over a real sparse file, checked against a model of what each filter
// means (a slice, a zero-extended slice, the same bytes, all data). Reads at random offsets
// and lengths must equal the model; every extents answer, with and without REQ_ONE, must
// start where it was asked, stay contiguous and inside the request, keep hole boundaries on
// sector boundaries, and claim zero only where the model reads zero; the maps built the way
// qemu (REQ_ONE) and nbdinfo (whole requests) build them must equal the model's map.
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { writeFileSync } from 'node:fs';
import { EXTENT_DATA as D, EXTENT_HOLE_ZERO as HZ, extentTriples, pushExtent, type Extent } from '../../shared/extents.ts';
import { extentsEnd } from '../backend/extents.ts';
import type { OpenChain } from '../backend/chain.ts';
import { FLAG_REQ_ONE } from '../backend/flags.ts';
import { SECTOR } from '../backend/sector-align.ts';
import { openTestChain, type FilterSpec } from '../testing/chains.ts';
import { filters } from './index.ts';
import { tempDir } from '../temp-dir.ts';
import { propertyParams, propertyTimeout } from '../testing/property-params.ts';
import { writeSparseFile, type DataRun } from '../testing/sparse-file.ts';

const PAGE = 4096;
const tmp = tempDir();
afterAll(() => tmp.cleanup());

/** What the disk at some layer is: its bytes, which of them lie in holes, whether extents are shown. */
interface Model {
  bytes: Buffer;
  hole: Uint8Array;
  extents: boolean;
}

interface Base {
  size: number;
  runs: DataRun[];
  /** An MBR partition (in sectors) written at sector 0, so the partition filter has something to serve. */
  partition: { start: number; sectors: number } | null;
}

const baseArb: fc.Arbitrary<Base> = fc
  .record({
    pages: fc.integer({ min: 1, max: 768 }),
    tail: fc.integer({ min: 0, max: PAGE - 1 }),
    dataFirst: fc.boolean(),
    lengths: fc.array(fc.integer({ min: 1, max: 48 }), { minLength: 1, maxLength: 12 }),
    partition: fc.option(fc.record({ start: fc.integer({ min: 1, max: 4000 }), sectors: fc.integer({ min: 1, max: 4000 }) })),
  })
  .map(({ pages, tail, dataFirst, lengths, partition }) => {
    const size = pages * PAGE + tail;
    const runs: DataRun[] = [];
    let page = 0;
    let data = dataFirst || partition !== null;
    for (let i = 0; page < pages + 1; i++, data = !data) {
      const n = lengths[i % lengths.length]!;
      const offset = page * PAGE;
      if (data && offset < size) runs.push({ offset, length: Math.min(n * PAGE, size - offset) });
      page += n;
    }
    const sectors = Math.floor(size / SECTOR);
    const fits = partition && partition.start < sectors ? { start: partition.start, sectors: Math.min(partition.sectors, sectors - partition.start) } : null;
    return { size, runs, partition: fits };
  });

type FilterChoice =
  | { name: 'offset'; at: number; range: number | null }
  | { name: 'truncate'; size: number | null; roundUp: number | null }
  | { name: 'cow' | 'noextents' | 'readonly' | 'delay' | 'error' | 'stats' | 'partition' }
  // Group B: the same bytes and map as the layer below.
  | { name: 'cache' | 'cacheextents' | 'readahead' | 'retry' | 'rate' | 'scan' }
  // Group A: the same bytes and map as the layer below, whatever their modes.
  | { name: 'fua' | 'nocache' | 'noparallel' | 'multi-conn' | 'nozero'; params: Record<string, string> }
  // Words byte-swapped (blocksize above it, as swab's README asks, for unaligned reads).
  | { name: 'swab'; bits: 16 | 32 | 64 }
  // The size rounded down to whole blocks (nbdkit's blocksize does the same).
  | { name: 'blocksize'; minblock: number; maxdata: number; maxlen: number };

/** Every enum parameter of a catalogued filter set to one of its values (bools and sizes left at default). */
function enumParamsArb(name: string): fc.Arbitrary<Record<string, string>> {
  const specs = filters.find((f) => f.name === name)!.params.filter((p) => p.kind === 'enum');
  return fc.record(Object.fromEntries(specs.map((p) => [p.key, fc.constantFrom(...p.values!)])));
}

const groupAArb: fc.Arbitrary<FilterChoice> = fc.oneof(
  ...(['fua', 'nocache', 'noparallel', 'multi-conn', 'nozero'] as const).map((name) => enumParamsArb(name).map((params) => ({ name, params }))),
  fc.record({ name: fc.constant('swab' as const), bits: fc.constantFrom(16 as const, 32 as const, 64 as const) }),
  // maxdata and maxlen at least 64K: byte-sized pieces of an 8 MiB read would only be slow.
  fc.record({ exp: fc.integer({ min: 0, max: 16 }), data: fc.integer({ min: 1, max: 16 }), len: fc.integer({ min: 1, max: 16 }) })
    .map(({ exp, data, len }) => ({ name: 'blocksize' as const, minblock: 2 ** exp, maxdata: Math.max(2 ** exp, 65536) * data, maxlen: Math.max(2 ** exp, 65536) * len })),
);

const filterArb: fc.Arbitrary<FilterChoice> = fc.oneof(
  fc.record({ name: fc.constant('offset' as const), at: fc.double({ min: 0, max: 1, noNaN: true }), range: fc.option(fc.double({ min: 0, max: 1, noNaN: true })) })
    .map(({ name, at, range }) => ({ name, at, range })),
  fc.record({ name: fc.constant('truncate' as const), size: fc.option(fc.integer({ min: 1, max: 5 * 2 ** 20 })), roundUp: fc.option(fc.constantFrom(512, 4096, 65536, 2 ** 20)) }),
  fc.constantFrom('cow', 'noextents', 'readonly', 'delay', 'error', 'stats', 'partition').map((name) => ({ name }) as FilterChoice),
  fc.constantFrom('cache', 'cacheextents', 'readahead', 'retry', 'rate', 'scan').map((name) => ({ name }) as FilterChoice),
  groupAArb,
);

/** Turn choices (outermost first) into filter specs with concrete parameters, and the model they serve. */
function applyStack(base: Base, baseModel: Model, choices: FilterChoice[]): { specs: FilterSpec[]; model: Model } | null {
  let model = baseModel;
  const specs: FilterSpec[] = [];
  for (let i = choices.length - 1; i >= 0; i--) {
    const c = choices[i]!;
    const size = model.bytes.length;
    const slice = (from: number, to: number): Model => ({ bytes: model.bytes.subarray(from, to), hole: model.hole.subarray(from, to), extents: model.extents });
    switch (c.name) {
      case 'offset': {
        const at = Math.floor(c.at * size);
        const range = c.range === null ? null : Math.max(1, Math.floor(c.range * (size - at)));
        if (size - at === 0) return null;
        specs.unshift(['offset', range === null ? { offset: String(at) } : { offset: String(at), range: String(range) }]);
        model = slice(at, range === null ? size : at + range);
        break;
      }
      case 'truncate': {
        let n = c.size ?? size;
        if (c.roundUp) n = Math.ceil(n / c.roundUp) * c.roundUp;
        const p: Record<string, string> = {};
        if (c.size !== null) p.truncate = String(c.size);
        if (c.roundUp) p['round-up'] = String(c.roundUp);
        specs.unshift(['truncate', p]);
        const bytes = Buffer.alloc(n);
        model.bytes.copy(bytes, 0, 0, Math.min(n, size));
        const hole = new Uint8Array(n).fill(1);
        hole.set(model.hole.subarray(0, Math.min(n, size)));
        model = { bytes, hole, extents: model.extents };
        break;
      }
      case 'partition':
        // Only straight over the image, where the table we wrote is.
        if (i !== choices.length - 1 || !base.partition) return null;
        specs.unshift(['partition', { partition: '1' }]);
        model = slice(base.partition.start * SECTOR, (base.partition.start + base.partition.sectors) * SECTOR);
        break;
      case 'noextents':
        specs.unshift(['noextents']);
        model = { ...model, extents: false };
        break;
      case 'delay':
        specs.unshift(['delay', { rdelay: '0', wdelay: '0' }]);
        break;
      case 'cache':
        specs.unshift(['cache', { 'cache-on-read': 'true', 'cache-min-block-size': '4K', 'cache-max-size': '1M' }]);
        break;
      case 'rate':
        specs.unshift(['rate', { rate: '100G', 'connection-rate': '100G' }]);
        break;
      case 'scan':
        specs.unshift(['scan', { 'scan-size': '256K' }]);
        break;
      case 'error':
        specs.unshift(['error', { 'error-rate': '0' }]);
        break;
      case 'fua':
      case 'nocache':
      case 'noparallel':
      case 'multi-conn':
      case 'nozero':
        specs.unshift([c.name, c.params]);
        break;
      case 'blocksize':
        specs.unshift(['blocksize', { minblock: String(c.minblock), maxdata: String(c.maxdata), maxlen: String(c.maxlen) }]);
        model = slice(0, size - (size % c.minblock));
        break;
      case 'swab':
        specs.unshift(['blocksize', { minblock: String(c.bits / 8) }], ['swab', { 'swab-bits': String(c.bits) }]);
        model = swabbed(slice(0, size - (size % (c.bits / 8))), c.bits);
        break;
      default:
        specs.unshift([c.name]);
    }
  }
  return model.bytes.length > 0 ? { specs, model } : null;
}

/** The model with each word's bytes reversed; its hole bytes move with them. */
function swabbed(model: Model, bits: 16 | 32 | 64): Model {
  const swap = (b: Buffer) => (bits === 16 ? b.swap16() : bits === 32 ? b.swap32() : b.swap64());
  const hole = swap(Buffer.from(model.hole));
  return { bytes: swap(Buffer.from(model.bytes)), hole: new Uint8Array(hole.buffer, hole.byteOffset, hole.length), extents: model.extents };
}

function writeBase(file: string, base: Base): Model {
  const bytes = writeSparseFile(file, base.size, base.runs);
  if (base.partition) {
    const mbr = Buffer.alloc(SECTOR);
    bytes.copy(mbr, 0, 0, SECTOR);
    mbr.fill(0, 446, 510);
    mbr[446 + 4] = 0x83;
    mbr.writeUInt32LE(base.partition.start, 446 + 8);
    mbr.writeUInt32LE(base.partition.sectors, 446 + 12);
    mbr[510] = 0x55;
    mbr[511] = 0xaa;
    mbr.copy(bytes, 0);
    writeFileSync(file, mbr, { flag: 'r+' });
  }
  const hole = new Uint8Array(base.size).fill(1);
  for (const r of base.runs) hole.fill(0, r.offset, r.offset + r.length);
  return { bytes, hole, extents: true };
}

/** The model's map: a sector is a hole only if every byte of it is. */
function expectedMap(model: Model): number[][] {
  const size = model.bytes.length;
  if (!model.extents) return [[0, size, D]];
  const out: Extent[] = [];
  for (let s = 0; s < size; s += SECTOR) {
    const end = Math.min(s + SECTOR, size);
    pushExtent(out, s, end - s, model.hole.subarray(s, end).every((h) => h === 1) ? HZ : D);
  }
  return extentTriples(out);
}

function checkAnswer(model: Model, list: Extent[], count: number, offset: number, flags: number): void {
  const size = model.bytes.length;
  expect(list.length).toBeGreaterThan(0);
  if (flags & FLAG_REQ_ONE) expect(list).toHaveLength(1);
  let pos = offset;
  for (const e of list) {
    expect(e.offset).toBe(pos);
    expect(e.length).toBeGreaterThan(0);
    pos += e.length;
    if (e.flags === D) continue;
    // A claim of zero must hold for every byte, and must not start or end inside a sector.
    expect(model.bytes.subarray(e.offset, pos).every((b) => b === 0)).toBe(true);
    expect(e.offset % SECTOR === 0 || e.offset === offset).toBe(true);
    expect(pos % SECTOR === 0 || pos === size || pos === offset + count).toBe(true);
  }
  expect(pos).toBeLessThanOrEqual(offset + count);
}

/** The whole map, asking from where each answer ended (REQ_ONE like qemu, or whole ranges like nbdinfo). */
async function walk(open: OpenChain, model: Model, flags: number): Promise<number[][]> {
  const size = open.top.getSize();
  const out: Extent[] = [];
  for (let pos = 0; pos < size;) {
    const list = await open.top.extents(size - pos, pos, flags);
    checkAnswer(model, list, size - pos, pos, flags);
    for (const e of list) pushExtent(out, e.offset, e.length, e.flags);
    pos = extentsEnd(list, pos);
  }
  return extentTriples(out);
}

const queryArb = fc.record({ at: fc.double({ min: 0, max: 1, noNaN: true }), length: fc.integer({ min: 1, max: 8 * 2 ** 20 }), reqOne: fc.boolean(), aligned: fc.boolean() });

describe('random filter stacks over a sparse file, against the model', () => {
  let caseNo = 0;
  it('reads, extents and maps agree with the model', { timeout: propertyTimeout(120_000) }, async () => {
    await fc.assert(
      fc.asyncProperty(baseArb, fc.array(filterArb, { maxLength: 3 }), fc.array(queryArb, { minLength: 1, maxLength: 8 }), async (base, choices, queries) => {
        const file = path.join(tmp.dir, `base-${caseNo++}.img`);
        const stack = applyStack(base, writeBase(file, base), choices);
        fc.pre(stack !== null);
        const { specs, model } = stack!;
        const open = await openTestChain('file', { file }, specs, { readonly: true });
        try {
          const size = open.top.getSize();
          expect(size).toBe(model.bytes.length);
          const want = expectedMap(model);
          expect(await walk(open, model, 0)).toEqual(want);
          expect(await walk(open, model, FLAG_REQ_ONE)).toEqual(want);
          for (const q of queries) {
            let offset = Math.min(size - 1, Math.floor(q.at * size));
            if (q.aligned) offset -= offset % SECTOR;
            const count = Math.min(q.length, size - offset);
            const flags = q.reqOne ? FLAG_REQ_ONE : 0;
            checkAnswer(model, await open.top.extents(count, offset, flags), count, offset, flags);
            const buf = Buffer.alloc(count);
            await open.top.pread(buf, offset);
            expect(buf.equals(model.bytes.subarray(offset, offset + count))).toBe(true);
          }
        } finally {
          await open.close();
        }
      }),
      propertyParams(60),
    );
  });
});
