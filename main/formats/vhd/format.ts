// VHD (Virtual PC / Hyper-V): fixed, dynamic and differencing disks, served read-only with
// per-sector allocation from the block sector bitmaps.
// Its entry in the one table of formats (../table.ts).
import type { ImageFormat } from '../table.ts';
import { FOOTER_BYTES, hasFooterCookie } from './structures.ts';
import { VhdLayer } from './vhd-layer.ts';

export const vhdFormat: ImageFormat = {
  name: 'vhd',
  summary: 'VHD image (fixed, dynamic, differencing), read-only',
  // A dynamic disk starts with a footer copy; a fixed one has it only at the end.
  probe: (head, tail) => hasFooterCookie(head) || (tail.length >= FOOTER_BYTES && hasFooterCookie(tail.subarray(tail.length - FOOTER_BYTES))),
  openLayer: (path, caches) => VhdLayer.open(path, caches),
};
