// VMDK (monolithicSparse, streamOptimized, flat and split descriptor variants) as a
// read-only plugin, following parentFileNameHint to the parent disk.
import { defineImagePlugin } from '../image-plugin.ts';
import type { ImageFormat } from '../index.ts';
import { isVmdk } from './probe.ts';

export const vmdkPlugin = defineImagePlugin('vmdk', 'VMDK image (sparse, streamOptimized, flat, split), read-only');

export const vmdkFormat: ImageFormat = { name: 'vmdk', plugin: vmdkPlugin, probe: (head) => isVmdk(head) };
