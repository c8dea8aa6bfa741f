// Field decoding shared by the probes. Every read is bounds-checked against the buffer, so
// a probe handed a short head simply fails to match instead of throwing.

export function latin1(buf: Buffer, at: number, length: number): string {
  if (at < 0 || at + length > buf.length) return '';
  return buf.toString('latin1', at, at + length);
}

export function hasMagic(buf: Buffer, at: number, magic: string): boolean {
  return latin1(buf, at, magic.length) === magic;
}

/** A NUL-terminated (or NUL-padded) UTF-8 string; undefined when empty. */
export function cString(buf: Buffer, at: number, length: number): string | undefined {
  if (at + length > buf.length) return undefined;
  const raw = buf.subarray(at, at + length);
  const nul = raw.indexOf(0);
  const text = raw.subarray(0, nul < 0 ? raw.length : nul).toString('utf8');
  return text === '' ? undefined : text;
}

/** A space-padded label (FAT, ISO9660); undefined when blank. */
export function paddedLabel(buf: Buffer, at: number, length: number): string | undefined {
  const text = latin1(buf, at, length).replace(/[\0 ]+$/, '');
  return text === '' ? undefined : text;
}

export function utf16Label(bytes: Buffer): string | undefined {
  const text = bytes.toString('utf16le').replace(/\0+$/, '');
  return text === '' ? undefined : text;
}

/** FAT and exFAT volume serial numbers as "ABCD-1234". */
export function volumeSerial(serial: number): string {
  const hex = serial.toString(16).toUpperCase().padStart(8, '0');
  return `${hex.slice(0, 4)}-${hex.slice(4)}`;
}

export function isPowerOfTwo(n: number): boolean {
  return n > 0 && (n & (n - 1)) === 0;
}

export function u16le(buf: Buffer, at: number): number {
  return at + 2 <= buf.length ? buf.readUInt16LE(at) : -1;
}

export function u32le(buf: Buffer, at: number): number {
  return at + 4 <= buf.length ? buf.readUInt32LE(at) : -1;
}
