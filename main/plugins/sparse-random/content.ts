// What the data blocks of a sparse-random disk contain. Both kinds are a pure function of
// (seed, block), so any read can be answered, and any write checked, without storing bytes.
import { BLOCK_SIZE } from './layout.ts';
import { Prng, seedWords } from './prng.ts';

/** Write the content of disk bytes [offset, offset + length), all inside data, to buf at `at`. */
export type ContentFill = (buf: Buffer, at: number, offset: number, length: number) => void;

/** Calls fn for each block piece of [offset, offset + length). */
function forEachBlock(offset: number, length: number, fn: (block: number, from: number, to: number, done: number) => void): void {
  let done = 0;
  while (done < length) {
    const pos = offset + done;
    const block = Math.floor(pos / BLOCK_SIZE);
    const from = pos - block * BLOCK_SIZE;
    const to = Math.min(BLOCK_SIZE, from + length - done);
    fn(block, from, to, done);
    done += to - from;
  }
}

/** Each block filled with one byte, 1..255, hashed from seed and block: never zero, cheap to check. */
export function blockByteContent(seed: number): ContentFill {
  const [seedLow, seedHigh] = seedWords(seed);
  return (buf, at, offset, length) => {
    forEachBlock(offset, length, (block, from, to, done) => {
      buf.fill(1 + (mix32(seedLow ^ (block >>> 0), seedHigh ^ Math.floor(block / 2 ** 32)) % 255), at + done, at + done + to - from);
    });
  };
}

/** A 32-bit avalanche of two words (murmur3's finaliser over a combination of both). */
function mix32(a: number, b: number): number {
  let h = (a ^ Math.imul(b, 0x27d4eb2f)) | 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Pseudo-random bytes, generated per block from the seed and the block number. */
export function randomContent(seed: number): ContentFill {
  const [seedLow, seedHigh] = seedWords(seed);
  return (buf, at, offset, length) => {
    const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    forEachBlock(offset, length, (block, from, to, done) => {
      const rng = new Prng(seedLow ^ Math.imul(block >>> 0, 0x9e3779b1), seedHigh ^ (Math.floor(block / 2 ** 32) + 0x5bd1e995));
      const base = at + done - from;
      // The generator cannot skip ahead, so words before `from` are drawn and dropped.
      for (let word = 0; word * 4 < to; word++) {
        const value = rng.next32();
        const start = word * 4;
        if (start + 4 <= from) continue;
        if (start >= from && start + 4 <= to) {
          view.setUint32(base + start, value, true);
        } else {
          for (let k = Math.max(start, from); k < Math.min(start + 4, to); k++) buf[base + k] = (value >>> (8 * (k - start))) & 0xff;
        }
      }
    });
  };
}
