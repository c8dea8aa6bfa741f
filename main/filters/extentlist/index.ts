// extentlist: serve a fixed map from a file instead of asking the layer below
// (nbdkit-extentlist-filter), for sources that cannot report holes (ssh, http) when the map
// is known some other way (xfs_bmap on the server). The list does not follow writes, so it
// is only safe read-only, as nbdkit warns.
import { readFileSync } from 'node:fs';
import { BlockError } from '../../backend/errors.ts';
import { defineFilter } from '../../backend/types.ts';
import { extentsIn, parseExtentList } from './parse.ts';

export const extentlistFilter = defineFilter({
  name: 'extentlist',
  summary: 'serve the extents listed in a file instead of the real map',
  params: [
    { key: 'extentlist', kind: 'path', required: true, description: 'file of "offset length [type]" lines (type: hole, zero, hole,zero)' },
  ],
  create(params) {
    let list;
    try {
      list = parseExtentList(readFileSync(params.extentlist, 'utf8'), params.extentlist);
    } catch (err) {
      throw new BlockError('EINVAL', `extentlist: extentlist: ${(err as Error).message}`);
    }
    return {
      open: () => ({
        canExtents: () => true,
        extents: (count, offset) => extentsIn(list, count, offset),
      }),
    };
  },
});
