// nbdkit's own cow filter as the oracle: the same writes and trims through both must give
// the same allocation map and the same bytes. (Zeroing is left out on purpose: we show
// whole zeroed blocks as "zero", nbdkit as "data"; see README.)
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { mapOf, readAll } from '../../backend/testing.ts';
import { openTestChain } from '../../testing/chains.ts';

type Op = ['write', number, number, number] | ['discard', number, number];

const dir = mkdtempSync(join(tmpdir(), 'blockscope-cow-oracle-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function nbdkitAfter(ops: Op[]): { map: number[][]; bytes: Buffer } {
  const out = join(dir, 'disk.bin');
  const commands = ops.flatMap((op) => ['-c', op[0] === 'write' ? `write -P ${op[3]} ${op[1]} ${op[2]}` : `discard ${op[1]} ${op[2]}`]);
  const quoted = commands.map((c) => `'${c}'`).join(' ');
  const json = execFileSync('nbdkit', ['-U', '-', '--filter=cow', 'memory', 'size=1M', 'cow-block-size=4K', '--run',
    `qemu-io -f raw ${quoted} "$uri" >/dev/null && nbdcopy "$uri" ${out} && nbdinfo --map --json "$uri"`], { encoding: 'utf8' });
  const map = (JSON.parse(json) as { offset: number; length: number; type: number }[]).map((e) => [e.offset, e.length, e.type]);
  return { map, bytes: readFileSync(out) };
}

async function oursAfter(ops: Op[]): Promise<{ map: number[][]; bytes: Buffer }> {
  const open = await openTestChain('memory', { size: '1M' }, [['cow', { 'cow-block-size': '4K' }]]);
  for (const op of ops) {
    if (op[0] === 'write') await open.top.pwrite(Buffer.alloc(op[2], op[3]), op[1]);
    else await open.top.trim(op[2], op[1]);
  }
  return { map: await mapOf(open), bytes: await readAll(open) };
}

describe('cow filter against nbdkit-cow-filter', () => {
  it('unaligned writes, a write spanning blocks, aligned and unaligned trims', async () => {
    const ops: Op[] = [
      ['write', 10245, 100, 0x11],
      ['write', 65536, 20000, 0x22],
      ['discard', 69632, 8192],
      ['write', 500000, 70000, 0x33],
      ['discard', 510000, 10000],
    ];
    const theirs = nbdkitAfter(ops);
    const ours = await oursAfter(ops);
    expect(ours.map).toEqual(theirs.map);
    expect(ours.bytes.equals(theirs.bytes)).toBe(true);
  });
});
