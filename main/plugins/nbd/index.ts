// nbd: proxy another NBD server (nbdkit-nbd-plugin), one client connection per connection
// to us. This is how the app and `blockscope map URI` look at a remote export through the
// same chain as a local image. nbds:// URIs start TLS first (main/nbd/client-tls.ts).
import { FLAG_FUA, FLAG_MAY_TRIM, FLAG_REQ_ONE } from '../../backend/flags.ts';
import { definePlugin } from '../../backend/types.ts';
import type { Extent } from '../../../shared/extents.ts';
import { NbdClient } from '../../nbd/client.ts';
import { TFLAG } from '../../nbd/protocol.ts';

export const nbdPlugin = definePlugin({
  name: 'nbd',
  summary: 'serve (or inspect) an export of another NBD server',
  magicKey: 'uri',
  params: [{ key: 'uri', kind: 'string', required: true, description: 'nbd://HOST[:PORT]/EXPORT or nbd+unix:///EXPORT?socket=PATH; nbds:// and nbds+unix:// for TLS, with ?tls-certificates=DIR or tls-psk-file=FILE (libnbd\'s URIs)' }],
  create(params) {
    const uri = params.uri;
    return {
      description: `NBD export ${uri}`,
      async open() {
        const client = await NbdClient.connect(uri);
        const has = (flag: number) => (client.info.flags & flag) !== 0;
        return {
          getSize: () => client.size,
          canWrite: () => !client.readonly,
          canFlush: () => has(TFLAG.SEND_FLUSH),
          canTrim: () => has(TFLAG.SEND_TRIM),
          canZero: () => has(TFLAG.SEND_WRITE_ZEROES),
          canFastZero: () => false,
          canFua: () => (has(TFLAG.SEND_FUA) ? 'native' : 'none'),
          canMultiConn: () => has(TFLAG.CAN_MULTI_CONN),
          isRotational: () => has(TFLAG.ROTATIONAL),
          canExtents: () => client.info.contexts.length > 0,
          pread: (buf, offset) => client.pread(buf, offset),
          pwrite: (buf, offset, flags) => client.pwrite(buf, offset, (flags & FLAG_FUA) !== 0),
          flush: () => client.flush(),
          trim: (count, offset) => client.trim(count, offset),
          zero: (count, offset, flags) => client.zero(count, offset, (flags & FLAG_MAY_TRIM) === 0),
          extents: (count, offset, flags) => coveringExtents(client, count, offset, (flags & FLAG_REQ_ONE) !== 0),
          extentDescriptors: (count, offset) => client.blockStatusDescriptors(Math.min(count, MAX_REQUEST_LENGTH), offset),
          close: () => client.close(),
        };
      },
    };
  },
});

/** The largest sector-aligned length a request's u32 can carry. */
const MAX_REQUEST_LENGTH = 2 ** 32 - 512;

/**
 * A server may answer block status for less than was asked; a plugin's answer without
 * REQ_ONE speaks for the whole range (the rest would be a hole), so keep asking until the
 * range is covered. With REQ_ONE the first answer is enough: its tail claims nothing.
 */
async function coveringExtents(client: NbdClient, count: number, offset: number, one: boolean): Promise<Extent[]> {
  // Answers are joined into a new list rather than pushed onto one made before the awaits: an
  // older list holding millions of young extents made every young collection of a scan slow.
  let out: Extent[] = [];
  const end = offset + count;
  let pos = offset;
  while (pos < end) {
    const got = await client.blockStatus(Math.min(end - pos, MAX_REQUEST_LENGTH), pos, one);
    if (got.length === 0) throw new Error(`${client.info.name}: the server returned no extents at ${pos}`);
    out = out.length === 0 ? got : out.concat(got);
    if (one) break;
    const last = got[got.length - 1]!;
    pos = last.offset + last.length;
  }
  return out;
}
