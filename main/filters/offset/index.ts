// offset: expose [offset, offset+range) of the layer below (nbdkit-offset-filter).
import { BlockError } from '../../backend/errors.ts';
import { defineFilter } from '../../backend/types.ts';
import { windowOnto } from '../window.ts';

export const offsetFilter = defineFilter({
  name: 'offset',
  summary: 'serve a window of the disk starting at an offset',
  params: [
    { key: 'offset', kind: 'offset', default: '0', description: 'first byte of the window' },
    { key: 'range', kind: 'size', description: 'length of the window (default: to the end of the disk)' },
  ],
  create(params) {
    const offset = params.offset;
    const range = params.range;
    return {
      open(next) {
        const below = next.getSize();
        if (offset > below || (range !== undefined && offset + range > below)) {
          throw new BlockError('EINVAL', `offset: window [${offset}, ${offset + (range ?? 0)}) is beyond the disk size ${below}`);
        }
        return windowOnto(next, offset, range ?? below - offset);
      },
    };
  },
});
