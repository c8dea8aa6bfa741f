// Two byte orders for the same 16-byte identifier. GPT (like every Microsoft GUID) stores
// the first three groups little-endian; filesystem UUIDs (ext, XFS, Btrfs, swap) are
// stored in the order they are printed. Getting this wrong gives a plausible-looking but
// wrong string, so both directions live here once.

const MIXED_ORDER = [3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15];
const PLAIN_ORDER = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];
const DASH_AFTER = new Set([3, 5, 7, 9]);

function format(bytes: Uint8Array, order: readonly number[], upper: boolean): string {
  let out = '';
  order.forEach((src, i) => {
    out += bytes[src]!.toString(16).padStart(2, '0');
    if (DASH_AFTER.has(i)) out += '-';
  });
  return upper ? out.toUpperCase() : out;
}

/** A GPT GUID (mixed-endian on disk) as sgdisk prints it: upper case. */
export function guidFromBytes(bytes: Uint8Array): string {
  return format(bytes.subarray(0, 16), MIXED_ORDER, true);
}

/** A filesystem UUID (stored in print order) as blkid prints it: lower case. */
export function uuidFromBytes(bytes: Uint8Array): string {
  return format(bytes.subarray(0, 16), PLAIN_ORDER, false);
}

/** The 16 on-disk bytes of a GPT GUID written as text. */
export function guidToBytes(text: string): Buffer {
  const hex = text.replace(/-/g, '');
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new Error(`'${text}' is not a GUID`);
  const printed = Buffer.from(hex, 'hex');
  const out = Buffer.alloc(16);
  MIXED_ORDER.forEach((src, i) => {
    out[src] = printed[i]!;
  });
  return out;
}

export function isAllZero(bytes: Uint8Array): boolean {
  return bytes.every((b) => b === 0);
}
