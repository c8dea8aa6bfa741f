// VHDX (Hyper-V): dynamic, fixed and differencing disks, served read-only with allocation
// from the BAT block states (qemu-img map shows a whole VHDX as data; this does not).
import { defineImagePlugin } from '../image-plugin.ts';
import type { ImageFormat } from '../index.ts';
import { hasVhdxSignature } from './structures.ts';

export const vhdxPlugin = defineImagePlugin('vhdx', 'VHDX image (dynamic, fixed, differencing), read-only');

export const vhdxFormat: ImageFormat = {
  name: 'vhdx',
  plugin: vhdxPlugin,
  probe: (head) => hasVhdxSignature(head),
};
