// nbdkit-random-plugin's bytes, exactly. Byte i of the disk is the low byte of the third
// output of xoshiro256** seeded (through splitmix64) with seed + i: any byte can be computed
// without the ones before it. We found this by matching nbdkit 1.32's output for small seeds.
//
// 64-bit words are kept as two unsigned 32-bit halves: BigInt arithmetic is an order of
// magnitude slower in V8, and this runs seven generator steps for every byte served.

/** The high 32 bits of the 64-bit product of two 32-bit words read as unsigned (result as int32). */
function mulHigh32(a: number, b: number): number {
  const a0 = a & 0xffff, a1 = a >>> 16, b0 = b & 0xffff, b1 = b >>> 16;
  const p01 = a0 * b1, p10 = a1 * b0;
  const mid = ((a0 * b0) >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  return (a1 * b1 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16)) | 0;
}

const GAMMA_HI = 0x9e3779b9 | 0, GAMMA_LO = 0x7f4a7c15;

/**
 * Generator state as plain number fields, each half of a 64-bit word kept as a signed int32
 * (`| 0`): V8 stores those unboxed as small integers, where values above 2^31 would be
 * boxed doubles, several times slower to update.
 */
export class RandomBytes {
  private ch = 0; private cl = 0; // splitmix64 counter
  private oh = 0; private ol = 0; // last 64-bit result
  private s0h = 0; private s0l = 0; private s1h = 0; private s1l = 0;
  private s2h = 0; private s2l = 0; private s3h = 0; private s3l = 0;

  /** `seed` as [high, low] 32-bit halves (nbdkit's seed is an unsigned integer). */
  constructor(private readonly seedHi: number, private readonly seedLo: number) {}

  /** this.o = this.o * (mh:ml) mod 2^64. */
  private mul(mh: number, ml: number): void {
    const h = mulHigh32(this.ol, ml) + Math.imul(this.oh, ml) + Math.imul(this.ol, mh);
    this.ol = Math.imul(this.ol, ml);
    this.oh = h | 0;
  }

  /** this.o ^= this.o >>> k, for 0 < k < 32. */
  private xorShift(k: number): void {
    this.ol = this.ol ^ ((this.ol >>> k) | (this.oh << (32 - k)));
    this.oh = this.oh ^ (this.oh >>> k);
  }

  /** splitmix64: advances the counter, leaves the output in this.o. */
  private splitmix(): void {
    const low = (this.cl >>> 0) + GAMMA_LO;
    this.ch = (this.ch + GAMMA_HI + (low > 0xffffffff ? 1 : 0)) | 0;
    this.cl = low | 0;
    this.oh = this.ch;
    this.ol = this.cl;
    this.xorShift(30);
    this.mul(0xbf58476d | 0, 0x1ce4e5b9);
    this.xorShift(27);
    this.mul(0x94d049bb | 0, 0x133111eb);
    this.xorShift(31);
  }

  /** One xoshiro256** step; returns the low 32 bits of its output (all a byte needs). */
  private next(): number {
    // result = rotl(s1 * 5, 7) * 9: its low word needs only the low word of the rotation.
    this.oh = this.s1h;
    this.ol = this.s1l;
    this.mul(0, 5);
    const result = Math.imul((this.ol << 7) | (this.oh >>> 25), 9);
    const th = (this.s1h << 17) | (this.s1l >>> 15), tl = this.s1l << 17;
    this.s2h ^= this.s0h; this.s2l ^= this.s0l;
    this.s3h ^= this.s1h; this.s3l ^= this.s1l;
    this.s1h ^= this.s2h; this.s1l ^= this.s2l;
    this.s0h ^= this.s3h; this.s0l ^= this.s3l;
    this.s2h ^= th; this.s2l ^= tl;
    // rotl(s3, 45): swap the halves (32), then rotate by 13.
    const h = this.s3l, l = this.s3h;
    this.s3h = (h << 13) | (l >>> 19);
    this.s3l = (l << 13) | (h >>> 19);
    return result;
  }

  byteAt(offset: number): number {
    const low = (this.seedLo >>> 0) + (offset >>> 0);
    this.ch = (this.seedHi + Math.floor(offset / 2 ** 32) + (low > 0xffffffff ? 1 : 0)) | 0;
    this.cl = low | 0;
    this.splitmix(); this.s0h = this.oh; this.s0l = this.ol;
    this.splitmix(); this.s1h = this.oh; this.s1l = this.ol;
    this.splitmix(); this.s2h = this.oh; this.s2l = this.ol;
    this.splitmix(); this.s3h = this.oh; this.s3l = this.ol;
    this.next();
    this.next();
    return this.next() & 0xff;
  }

  fill(buf: Buffer, offset: number): void {
    for (let i = 0; i < buf.length; i++) buf[i] = this.byteAt(offset + i);
  }
}
