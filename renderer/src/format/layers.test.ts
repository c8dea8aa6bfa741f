import { describe, expect, it } from 'vitest';
import type { ImageLayerInfo } from '../../../shared/ipc.ts';
import { backingCount, depthWords, layerLabel } from './layers.ts';

const chain: ImageLayerInfo[] = [
  { depth: 1, path: '/v/top.qcow2', format: 'qcow2', size: 100, summary: '' },
  { depth: 2, path: '/v/base.raw', format: 'raw', size: 100, summary: '' },
];

describe('layer names', () => {
  it('counts backing files from the image down, the way the legend does', () => {
    expect([0, 1, 2, 3].map(layerLabel)).toEqual(['no layer', 'image', 'backing 1', 'backing 2']);
  });

  it('names the file holding a depth when the chain is known', () => {
    expect(depthWords(2, chain)).toBe('backing 1 (base.raw)');
    expect(depthWords(3, chain)).toBe('backing 2');
  });

  it('counts backing files from the chain, or from the map when it saw more', () => {
    expect(backingCount(chain)).toBe(1);
    expect(backingCount(undefined, 2)).toBe(2);
    expect(backingCount(undefined)).toBe(0);
  });
});
