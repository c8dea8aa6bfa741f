// Block sizes and roundings must be powers of 2 (cow-block-size, truncate's round-up and
// round-down). Bitwise tricks are 32-bit in JavaScript, so this works on exact numbers.

export function isPowerOfTwo(n: number): boolean {
  return Number.isSafeInteger(n) && n > 0 && Number.isInteger(Math.log2(n)) && 2 ** Math.log2(n) === n;
}

/** Throws "filter: key: n is not a power of 2" for a value that was given and is not. */
export function requirePowerOfTwo(filter: string, key: string, n: number | undefined): void {
  if (n !== undefined && !isPowerOfTwo(n)) throw new Error(`${filter}: ${key}: ${n} is not a power of 2`);
}
