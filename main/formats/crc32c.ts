// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of VHDX headers,
// region tables and log entries. Node's zlib offers only the IEEE CRC-32.

const TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32c(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) crc = TABLE[(crc ^ bytes[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** The CRC-32C of `bytes` as if the 4-byte checksum field at `at` were zero. */
export function crc32cWithFieldZeroed(bytes: Buffer, at: number): number {
  const copy = Buffer.from(bytes);
  copy.fill(0, at, at + 4);
  return crc32c(copy);
}
