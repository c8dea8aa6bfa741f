// A small seeded generator (xoshiro128**, seeded through splitmix32) so that a sparse-random
// disk is the same on every machine and every run for the same seed. Math.random cannot be
// seeded; BigInt-based 64-bit generators are several times slower in V8.

function splitmix32(state: number): [value: number, next: number] {
  const next = (state + 0x9e3779b9) | 0;
  let z = next;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return [(z ^ (z >>> 16)) >>> 0, next];
}

export class Prng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  /** Seeds from two 32-bit words, so 53-bit seeds and (seed, block) pairs both fit. */
  constructor(low: number, high = 0) {
    let s = (low ^ Math.imul(high, 0x632be5ab)) | 0;
    let v: number;
    [v, s] = splitmix32(s);
    this.a = v;
    [v, s] = splitmix32(s ^ high);
    this.b = v;
    [v, s] = splitmix32(s);
    this.c = v;
    [v] = splitmix32(s);
    this.d = v;
    if ((this.a | this.b | this.c | this.d) === 0) this.a = 1;
  }

  /** A uniform unsigned 32-bit integer. */
  next32(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return result;
  }

  /** A uniform double in (0, 1]: never 0, so its logarithm is finite. */
  nextUnit(): number {
    const hi = this.next32() >>> 5; // 27 bits
    const lo = this.next32() >>> 6; // 26 bits
    return (hi * 67108864 + lo + 1) / 9007199254740992;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** Splits a safe integer into the two 32-bit words Prng takes. */
export function seedWords(seed: number): [low: number, high: number] {
  return [seed >>> 0, Math.floor(seed / 2 ** 32) >>> 0];
}
