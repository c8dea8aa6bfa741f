// VDI (VirtualBox): normal (dynamic), fixed and differencing images, served read-only with
// allocation from the block map.
// Its entry in the one table of formats (../table.ts).
import type { ImageFormat } from '../table.ts';
import { hasVdiSignature, VdiLayer } from './vdi-layer.ts';

export const vdiFormat: ImageFormat = {
  name: 'vdi',
  summary: 'VirtualBox VDI image (normal, fixed, differencing), read-only',
  probe: (head) => hasVdiSignature(head),
  openLayer: (path, caches) => VdiLayer.open(path, caches),
};
