// Image formats recognised by their first bytes (and last, for trailer formats such as
// VHD). `blockscope serve IMAGE`, `info` and `map` pick the plugin from this list; an
// image nothing recognises is raw and served by the file plugin.
import type { PluginDefinition } from '../backend/types.ts';
import { qcow2Format } from './qcow2/index.ts';
import { vdiFormat } from './vdi/index.ts';
import { vhdFormat } from './vhd/index.ts';
import { vhdxFormat } from './vhdx/index.ts';
import { vmdkFormat } from './vmdk/index.ts';

export interface ImageFormat {
  /** Format name as `blockscope info` prints it (qcow2, vmdk, vhd, vhdx, vdi). */
  name: string;
  /** The plugin that serves it; it takes the image path as its `file` parameter. */
  plugin: PluginDefinition;
  /** True if `head` (the first 64 KiB, or less for a small file) and `tail` (the last 1 KiB) look like this format. */
  probe(head: Buffer, tail: Buffer, fileSize: number): boolean;
}

/** Probed in order; trailer-only formats (fixed VHD) come last. */
export const imageFormats: ImageFormat[] = [
  qcow2Format,
  vmdkFormat,
  vhdxFormat,
  vdiFormat,
  vhdFormat,
];
