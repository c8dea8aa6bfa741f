// random: a disk of reproducible random bytes (nbdkit-random-plugin), byte for byte the same
// as nbdkit's for the same seed. Writes are accepted only where they change nothing, so
// copying the disk onto itself (`nbdcopy "$uri" "$uri"`) checks a copying program.
import { BlockError } from '../../backend/errors.ts';
import { definePlugin } from '../../backend/types.ts';
import { RandomBytes } from './bytes.ts';

export const randomPlugin = definePlugin({
  name: 'random',
  summary: "random bytes, the same as nbdkit's for the same seed; writes must match",
  magicKey: 'size',
  params: [
    { key: 'size', kind: 'size', required: true, description: 'virtual size, e.g. 1G' },
    { key: 'seed', kind: 'int', min: 0, max: 2 ** 32 - 1, description: 'the same seed gives the same bytes (default: from the clock, as nbdkit)' },
  ],
  create(params) {
    const size = params.size;
    const seed = params.seed ?? Math.floor(Date.now() / 1000);
    const seedHi = Math.floor(seed / 2 ** 32), seedLo = seed >>> 0;
    return {
      description: `random disk of ${size} bytes, seed=${seed}`,
      open: () => {
        const bytes = new RandomBytes(seedHi, seedLo);
        return {
          getSize: () => size,
          canMultiConn: () => true,
          canCache: () => 'native',
          cache: () => {},
          pread: (buf, offset) => bytes.fill(buf, offset),
          pwrite: (buf, offset) => {
            for (let i = 0; i < buf.length; i++) {
              if (buf[i] !== bytes.byteAt(offset + i)) throw new BlockError('EIO', `random: data written at ${offset + i} differs from what the disk holds`);
            }
          },
        };
      },
    };
  },
});
