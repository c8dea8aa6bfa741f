// VDI (VirtualBox): normal (dynamic), fixed and differencing images, served read-only with
// allocation from the block map.
import { defineImagePlugin } from '../image-plugin.ts';
import type { ImageFormat } from '../index.ts';
import { hasVdiSignature } from './vdi-layer.ts';

export const vdiPlugin = defineImagePlugin('vdi', 'VirtualBox VDI image (normal, fixed, differencing), read-only');

export const vdiFormat: ImageFormat = {
  name: 'vdi',
  plugin: vdiPlugin,
  probe: (head) => hasVdiSignature(head),
};
