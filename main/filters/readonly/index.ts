// readonly: refuse every write. The backend turns canWrite false into EPERM for pwrite,
// trim and zero and stops advertising them; the layers below are opened read-only too,
// so a file plugin below never needs write access.
import { defineFilter } from '../../backend/types.ts';

export const readonlyFilter = defineFilter({
  name: 'readonly',
  summary: 'refuse writes (like nbdkit -r)',
  params: [],
  create: () => ({
    readonlyBelow: true,
    open: () => ({ canWrite: () => false }),
  }),
});
