// Test support for VHD: edit the checksummed structures of images qemu made, and turn a
// dynamic disk into a differencing one (qemu cannot create those).
import { statSync } from 'node:fs';
import path from 'node:path';
import { readAt, writeAt } from '../qemu-oracle.ts';
import { vhdChecksum } from './structures.ts';

/** Edit the footer and keep its checksum right, in the trailer and (dynamic disks) at offset 0. */
export function editFooter(image: string, edit: (footer: Buffer) => void, copies: ('tail' | 'head')[] = ['tail', 'head']): void {
  const size = statSync(image).size;
  for (const where of copies) {
    const at = where === 'tail' ? size - 512 : 0;
    const footer = readAt(image, at, 512);
    edit(footer);
    footer.writeUInt32BE(vhdChecksum(footer, 64), 64);
    writeAt(image, at, footer);
  }
}

export function editDynamicHeader(image: string, edit: (header: Buffer) => void): void {
  const headerAt = Number(readAt(image, 0, 512).readBigUInt64BE(16));
  const header = readAt(image, headerAt, 1024);
  edit(header);
  header.writeUInt32BE(vhdChecksum(header, 36), 36);
  writeAt(image, headerAt, header);
}

/**
 * Turn a dynamic VHD into a child of `parent`: footer disk type 4 (both copies), the
 * parent's unique id and name in the dynamic header, and a W2ru (relative UTF-16LE path)
 * locator whose data takes the place of the old trailer, with the footer appended after it.
 */
export function makeDifferencing(child: string, parent: string, parentRef: string): void {
  const parentId = readAt(parent, statSync(parent).size - 512, 512).subarray(68, 84);
  const trailerAt = statSync(child).size - 512;
  const footer = readAt(child, trailerAt, 512);
  const locator = Buffer.alloc(512);
  const refBytes = Buffer.from(parentRef, 'utf16le');
  refBytes.copy(locator);
  writeAt(child, trailerAt, locator);
  writeAt(child, trailerAt + 512, footer);
  editFooter(child, (f) => f.writeUInt32BE(4, 60));
  editDynamicHeader(child, (h) => {
    parentId.copy(h, 40);
    Buffer.from(path.basename(parent), 'utf16le').swap16().copy(h, 64);
    h.write('W2ru', 576, 'latin1');
    h.writeUInt32BE(1, 580);
    h.writeUInt32BE(refBytes.length, 584);
    h.writeBigUInt64BE(BigInt(trailerAt), 592);
  });
}
