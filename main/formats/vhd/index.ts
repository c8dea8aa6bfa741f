// VHD (Virtual PC / Hyper-V): fixed, dynamic and differencing disks, served read-only with
// per-sector allocation from the block sector bitmaps.
import { defineImagePlugin } from '../image-plugin.ts';
import type { ImageFormat } from '../index.ts';
import { FOOTER_BYTES, hasFooterCookie } from './structures.ts';

export const vhdPlugin = defineImagePlugin('vhd', 'VHD image (fixed, dynamic, differencing), read-only');

export const vhdFormat: ImageFormat = {
  name: 'vhd',
  plugin: vhdPlugin,
  // A dynamic disk starts with a footer copy; a fixed one has it only at the end.
  probe: (head, tail) => hasFooterCookie(head) || (tail.length >= FOOTER_BYTES && hasFooterCookie(tail.subarray(tail.length - FOOTER_BYTES))),
};
