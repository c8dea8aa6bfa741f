// The connection loop (native/connection_loop.cc) when the file refuses a WRITE, for real: the
// CLI server runs with its files limited to 1 MiB (ulimit -f, SIGXFSZ ignored), so a write past
// that fails with EFBIG. The refused WRITE must be answered ENOSPC and logged, the WRITEs
// received after it (the loop's writer had them queued) written and answered, and every reply
// the same as the JavaScript path's (BLOCKSCOPE_CONNECTION_LOOP=0).
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RawNbdClient, readReplyData, type WireRequest } from '../../main/nbd/fast-read.testing.ts';
import { CMD, CMD_FLAG, NBD_ERRNO } from '../../main/nbd/protocol.ts';
import { serve, tempDir } from './harness.ts';

const KiB = 1024;
const tmp = tempDir('blockscope-loop-refused-');
afterAll(() => tmp.cleanup());

const write = (offset: number, fill: number, flags = 0): WireRequest => ({ type: CMD.WRITE, flags, offset, length: 64 * KiB, payload: Buffer.alloc(64 * KiB, fill) });

/** The replies to a batch with a WRITE the file refuses in the middle, and the bytes read back. */
async function refusedWrite(loop: boolean) {
  const file = path.join(tmp.dir, `${loop ? 'on' : 'off'}.img`);
  writeFileSync(file, Buffer.alloc(4096 * KiB, 0));
  const served = await serve(['-w', 'file', file], { env: { BLOCKSCOPE_CONNECTION_LOOP: loop ? '1' : '0' }, fileSizeLimitKiB: 1024 });
  try {
    const port = Number(new URL(served.uri).port);
    // Simple replies: an error is a field of the reply, the same for every command.
    const client = await RawNbdClient.connect({ port }, false, false);
    try {
      // A first WRITE served by the event loop, after which the loop has the connection.
      await client.batch([write(0, 1)]);
      const batch = [write(64 * KiB, 2), write(2048 * KiB, 3), write(128 * KiB, 4), write(192 * KiB, 5, CMD_FLAG.FUA), write(256 * KiB, 6)];
      const replies = await client.batch(batch);
      const back = await client.batch([{ type: CMD.READ, flags: 0, offset: 0, length: 320 * KiB }]);
      return { replies, data: readReplyData(back.get(1)!, 0, 320 * KiB), log: served.stderr() };
    } finally {
      client.close();
    }
  } finally {
    await served.stop();
  }
}

describe('a WRITE the file refuses', () => {
  it('is answered ENOSPC by the connection loop as by the JavaScript path, and the WRITEs after it are written', async () => {
    const on = await refusedWrite(true);
    const off = await refusedWrite(false);
    for (const [cookie, reply] of on.replies) expect(reply.equals(off.replies.get(cookie)!), `reply ${cookie}`).toBe(true);
    const errors = [...on.replies.entries()].sort((a, b) => a[0] - b[0]).map(([, r]) => r.readUInt32BE(4));
    expect(errors).toEqual([0, NBD_ERRNO.ENOSPC, 0, 0, 0]);
    for (let k = 0; k < 5; k++) expect(on.data[k * 64 * KiB]).toBe([1, 2, 4, 5, 6][k]);
    expect(on.data.equals(off.data)).toBe(true);
    expect(on.log).toMatch(/WRITE 2097152\+65536: EFBIG/);
  });
});
