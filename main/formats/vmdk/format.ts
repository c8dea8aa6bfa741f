// VMDK (monolithicSparse, streamOptimized, flat and split descriptor variants) as a
// read-only plugin, following parentFileNameHint to the parent disk.
// Its entry in the one table of formats (../table.ts).
import type { ImageFormat } from '../table.ts';
import { VmdkLayer } from './layer.ts';
import { isVmdk } from './probe.ts';

export const vmdkFormat: ImageFormat = {
  name: 'vmdk',
  summary: 'VMDK image (sparse, streamOptimized, flat, split), read-only',
  probe: (head) => isVmdk(head),
  openLayer: (path, caches) => VmdkLayer.open(path, caches),
};
