// noextents: hide allocation information; the backend then reports the whole disk as data
// (nbdkit-noextents-filter: for sources whose hole reporting is slow or untrustworthy).
import { defineFilter } from '../../backend/types.ts';

export const noextentsFilter = defineFilter({
  name: 'noextents',
  summary: 'report the whole disk as data (hide holes and zeroes)',
  params: [],
  create: () => ({
    open: () => ({ canExtents: () => false }),
  }),
});
