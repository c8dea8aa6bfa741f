// Test support for VHDX: find the regions of images qemu made, write BAT entries, and turn
// a dynamic image into a differencing one (qemu cannot create those).
import { statSync, truncateSync } from 'node:fs';
import { guidToBytes } from '../partitions/guid.ts';
import { readAt, writeAt } from '../qemu-oracle.ts';

const MiB = 1024 * 1024;

/** A BAT entry: state `lo` and the block's host offset in MiB. */
export function u64(lo: number, hiMiB = 0): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE((BigInt(hiMiB) << 20n) | BigInt(lo));
  return b;
}

/** Region offsets read straight from the primary region table (an independent parser). */
export function regions(image: string): { bat: number; metadata: number } {
  const table = readAt(image, 192 * 1024, 64 * 1024);
  const out = { bat: 0, metadata: 0 };
  for (let i = 0; i < table.readUInt32LE(8); i++) {
    const entry = table.subarray(16 + i * 32, 48 + i * 32);
    const offset = Number(entry.readBigUInt64LE(16));
    if (entry.subarray(0, 16).equals(guidToBytes('2DC27766-F623-4200-9D64-115E9BFD4A08'))) out.bat = offset;
    if (entry.subarray(0, 16).equals(guidToBytes('8B7CA206-4790-4B9A-B8FE-575F050F886E'))) out.metadata = offset;
  }
  return out;
}

/**
 * qemu cannot create differencing VHDX files, so the test makes a child from a 1 MiB-block
 * dynamic image by hand: HasParent in the file parameters, a parent locator item (type
 * B04AEFB7-..., key/value pairs in UTF-16LE) added to the metadata table, a sector bitmap
 * block appended to the file and named by BAT entry `ratio` (4096 for 1 MiB blocks), and
 * block states edited: PARTIALLY_PRESENT (7) with the first half of its sectors present,
 * ZERO (2), UNMAPPED (3); untouched NOT_PRESENT blocks fall through to the parent.
 */
export function makeDifferencing(child: string, parentRef: Record<string, string>): void {
  const { bat, metadata } = regions(child);
  const table = readAt(child, metadata, 64 * 1024);
  const count = table.readUInt16LE(10);
  for (let i = 0; i < count; i++) {
    const e = table.subarray(32 + i * 32, 64 + i * 32);
    if (e.subarray(0, 16).equals(guidToBytes('CAA16737-FA36-4D43-B3B6-33F0AA44E76B'))) {
      const at = metadata + e.readUInt32LE(16);
      const flags = readAt(child, at + 4, 4).readUInt32LE(0);
      writeAt(child, at + 4, Buffer.from(Uint32Array.of(flags | 2).buffer));
    }
  }
  const pairs = Object.entries(parentRef);
  const locator = Buffer.alloc(4096);
  guidToBytes('B04AEFB7-D19E-4A81-B789-25B8E9445913').copy(locator, 0);
  locator.writeUInt16LE(pairs.length, 18);
  let strings = 20 + pairs.length * 12;
  pairs.forEach(([key, value], i) => {
    const k = Buffer.from(key, 'utf16le');
    const v = Buffer.from(value, 'utf16le');
    locator.writeUInt32LE(strings, 20 + i * 12);
    k.copy(locator, strings);
    strings += k.length;
    locator.writeUInt32LE(strings, 24 + i * 12);
    v.copy(locator, strings);
    strings += v.length;
    locator.writeUInt16LE(k.length, 28 + i * 12);
    locator.writeUInt16LE(v.length, 30 + i * 12);
  });
  const locatorAt = 512 * 1024;
  writeAt(child, metadata + locatorAt, locator.subarray(0, strings));
  const entry = Buffer.alloc(32);
  guidToBytes('A8D35F2D-B30B-454D-ABF7-D3D84834AB0C').copy(entry, 0);
  entry.writeUInt32LE(locatorAt, 16);
  entry.writeUInt32LE(strings, 20);
  entry.writeUInt32LE(4 | 2, 24); // required, virtual-disk item
  writeAt(child, metadata + 32 + count * 32, entry);
  writeAt(child, metadata + 10, Buffer.from(Uint16Array.of(count + 1).buffer));

  const bitmapAt = statSync(child).size;
  truncateSync(child, bitmapAt + MiB);
  const blockBits = MiB / 512;
  writeAt(child, bitmapAt + (2 * blockBits) / 8, Buffer.alloc(blockBits / 16, 0xff));
  writeAt(child, bat + 8 * 4096, u64(6, bitmapAt / MiB));
  const block2 = readAt(child, bat + 8 * 2, 8).readBigUInt64LE(0) >> 20n;
  writeAt(child, bat + 8 * 2, u64(7, Number(block2)));
  writeAt(child, bat + 8 * 6, u64(2));
  writeAt(child, bat + 8 * 7, u64(3));
}
