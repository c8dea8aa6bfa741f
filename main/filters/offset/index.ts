// offset: expose [offset, offset+range) of the layer below (nbdkit-offset-filter).
import { scaleBytes } from '../../../shared/bytes.ts';
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
        // "component: key: reason", the shape parseParams uses, so forms put it beside the field.
        if (offset > below) {
          throw new BlockError('EINVAL', `offset: offset: the window starts at ${inWords(offset)}, past the end of the ${inWords(below)} disk`);
        }
        if (range !== undefined && offset + range > below) {
          throw new BlockError('EINVAL', `offset: range: the window ends at ${inWords(offset + range)}, past the end of the ${inWords(below)} disk`);
        }
        return windowOnto(next, offset, range ?? below - offset);
      },
    };
  },
});

/** 104857600 -> "100 MiB"; an uneven size keeps its exact byte count beside the rounded one. */
function inWords(n: number): string {
  const scaled = scaleBytes(n);
  if (!scaled) return `${n} bytes`;
  const rounded = `${Number(scaled.value.toFixed(2))} ${scaled.unit}`;
  return Number.isInteger(scaled.value) ? rounded : `${rounded} (${n} bytes)`;
}
