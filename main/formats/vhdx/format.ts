// VHDX (Hyper-V): dynamic, fixed and differencing disks, served read-only with allocation
// from the BAT block states (qemu-img map shows a whole VHDX as data; this does not).
// Its entry in the one table of formats (../table.ts).
import type { ImageFormat } from '../table.ts';
import { VhdxLayer } from './vhdx-layer.ts';
import { hasVhdxSignature } from './structures.ts';

export const vhdxFormat: ImageFormat = {
  name: 'vhdx',
  summary: 'VHDX image (dynamic, fixed, differencing), read-only',
  probe: (head) => hasVhdxSignature(head),
  openLayer: (path, caches) => VhdxLayer.open(path, caches),
};
