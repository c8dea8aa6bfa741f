// limit: at most N clients connected at once (nbdkit-limit-filter). A slot is taken when a
// connection is admitted, before its handshake, and freed when it closes, so a client that
// holds a socket open without negotiating holds its slot too. The app's own views of the
// chain (the map, searches) are not clients and take no slot.
import { BlockError } from '../../backend/errors.ts';
import { once } from '../../backend/chain.ts';
import { defineFilter } from '../../backend/types.ts';

export const limitFilter = defineFilter({
  name: 'limit',
  summary: 'serve at most N clients at once',
  params: [
    { key: 'limit', kind: 'int', min: 0, default: '1', noop: '0 = no limit', description: 'most clients connected at once' },
  ],
  create(params) {
    const limit = params.limit;
    // Per instance: the count belongs to this export and survives chain rebuilds with it.
    let connected = 0;
    return {
      preconnect() {
        if (limit === 0) return;
        if (connected >= limit) {
          throw new BlockError('EACCES', `${connected} of at most ${limit} client${limit === 1 ? '' : 's'} already connected`);
        }
        connected++;
        return once(() => void connected--);
      },
      open: () => ({}),
    };
  },
});
