// A Linux swap v1 header (the first page of a swap area): what mkswap writes.
import type { SparseImage } from './sparse-image.ts';

const PAGE = 4096;

export function writeSwapHeader(image: SparseImage, offset: number, bytes: number, label: string, uuid: string): void {
  const p = Buffer.alloc(PAGE);
  p.writeUInt32LE(1, 0x400); // version
  p.writeUInt32LE(Math.floor(bytes / PAGE) - 1, 0x404); // last page
  Buffer.from(uuid.replace(/-/g, ''), 'hex').copy(p, 0x40c);
  p.write(label.slice(0, 16), 0x41c, 'utf8');
  p.write('SWAPSPACE2', PAGE - 10, 'latin1');
  image.write(offset, p);
}
