import { expect, it } from 'vitest';
import { ByteQueue } from './byte-queue.ts';

it('hands back every byte in order across many tiny chunks, takes and peeks of any size', () => {
  const q = new ByteQueue();
  const all = Buffer.alloc(70_000 * 3);
  for (let i = 0; i < all.length; i++) all[i] = (i * 7 + (i >> 8)) & 0xff;
  // 70,000 three-byte chunks: enough to pass the compaction point many times.
  for (let i = 0; i < all.length; i += 3) q.push(all.subarray(i, i + 3));
  let at = 0;
  for (const n of [1, 2, 5, 3, 4096, 7, 1, 65536, 11]) {
    expect(q.peek(n).equals(all.subarray(at, at + n))).toBe(true);
    expect(q.take(n).equals(all.subarray(at, at + n))).toBe(true);
    at += n;
  }
  while (q.length >= 5) {
    expect(q.take(5).equals(all.subarray(at, at + 5))).toBe(true);
    at += 5;
  }
  expect(q.takeAll().equals(all.subarray(at))).toBe(true);
  expect(q.length).toBe(0);
  q.push(Buffer.from('ok'));
  expect(q.takeAll().toString()).toBe('ok');
});
