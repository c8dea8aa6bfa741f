import { expect, it } from 'vitest';
import { blockSizeLine, capabilityRows } from './capabilities.ts';

it('lists each capability in blockscope info’s order, and the block sizes as it prints them', () => {
  const flags = {
    is_read_only: true, can_flush: true, can_fua: false, is_rotational: false, can_trim: false,
    can_zero: false, can_fast_zero: false, can_multi_conn: true, can_cache: true, can_extents: true,
  };
  const caps = { flags, blockSize: { minimum: 1, preferred: 4096, maximum: 33554432 } };
  expect(blockSizeLine(caps)).toBe('block sizes: minimum 1, preferred 4096, maximum 33554432');
  expect(capabilityRows(caps)).toEqual([
    ['is_read_only', 'true'],
    ['can_flush', 'true'],
    ['can_fua', 'false'],
    ['is_rotational', 'false'],
    ['can_trim', 'false'],
    ['can_zero', 'false'],
    ['can_fast_zero', 'false'],
    ['can_multi_conn', 'true'],
    ['can_cache', 'true'],
    ['can_extents', 'true'],
  ]);
});
