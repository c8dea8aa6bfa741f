// qcow2 (v2 and v3) as a read-only plugin over its whole backing chain.
// Its entry in the one table of formats (../table.ts).
import type { ImageFormat } from '../table.ts';
import { Qcow2Layer } from './layer.ts';
import { isQcow2 } from './probe.ts';

export const qcow2Format: ImageFormat = {
  name: 'qcow2',
  summary: 'qcow2 image (v2/v3, with its backing chain), read-only',
  probe: (head) => isQcow2(head),
  openLayer: (path, caches) => Qcow2Layer.open(path, caches),
};
