// IP addresses and CIDR ranges as integers: an IPv4 address is 32 bits, an IPv6 address 128,
// both held in a bigint so one prefix comparison serves both families. An IPv4-mapped IPv6
// address (::ffff:a.b.c.d) is the IPv4 address, on either side of a comparison, because a
// dual-stack listener reports IPv4 clients that way.

export interface Address {
  family: 4 | 6;
  value: bigint;
}

export interface Cidr extends Address {
  prefix: number;
}

const BITS = { 4: 32, 6: 128 } as const;
/** ::ffff:0:0, the first IPv4-mapped address. */
const MAPPED_PREFIX = 0xffffn << 32n;

function parseIpv4(text: string): bigint | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!m) return null;
  let value = 0n;
  for (const part of m.slice(1)) {
    const n = Number(part);
    if (n > 255) return null;
    value = (value << 8n) | BigInt(n);
  }
  return value;
}

/** Hex groups of one side of '::' (the last may be a dotted IPv4 tail), or null. */
function groupsOf(text: string, mayEndInIpv4: boolean): number[] | null {
  if (text === '') return [];
  const parts = text.split(':');
  const groups: number[] = [];
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    if (i === parts.length - 1 && mayEndInIpv4 && part.includes('.')) {
      const v4 = parseIpv4(part);
      if (v4 === null) return null;
      groups.push(Number(v4 >> 16n), Number(v4 & 0xffffn));
    } else if (/^[0-9a-f]{1,4}$/i.test(part)) {
      groups.push(parseInt(part, 16));
    } else {
      return null;
    }
  }
  return groups;
}

function parseIpv6(text: string): bigint | null {
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const head = groupsOf(halves[0]!, halves.length === 1);
  const tail = halves.length === 2 ? groupsOf(halves[1]!, true) : [];
  if (!head || !tail) return null;
  const missing = 8 - head.length - tail.length;
  // '::' stands for at least one zero group; without it there must be exactly eight.
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  const groups = [...head, ...Array<number>(Math.max(missing, 0)).fill(0), ...tail];
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n);
}

/** "10.0.0.1", "::1", "::ffff:10.0.0.1" (as IPv4), "fe80::1%eth0" (the zone dropped); null if not an address. */
export function parseAddress(text: string): Address | null {
  const v4 = parseIpv4(text);
  if (v4 !== null) return { family: 4, value: v4 };
  const v6 = parseIpv6(text.replace(/%[^%]+$/, ''));
  if (v6 === null) return null;
  if (v6 >> 32n === MAPPED_PREFIX >> 32n) return { family: 4, value: v6 & 0xffffffffn };
  return { family: 6, value: v6 };
}

/** "10.0.0.0/8", "2001:db8::/32", or a single address (a full-length prefix); throws on anything else. */
export function parseCidr(text: string): Cidr {
  const slash = text.lastIndexOf('/');
  const addressText = slash < 0 ? text : text.slice(0, slash);
  const written = parseIpv6OrV4Family(addressText);
  if (!written) throw new Error(`'${addressText}' is not an IPv4 or IPv6 address`);
  const bits = BITS[written.writtenFamily];
  const prefixText = slash < 0 ? String(bits) : text.slice(slash + 1);
  const prefix = Number(prefixText);
  if (!/^\d{1,3}$/.test(prefixText) || prefix > bits) {
    throw new Error(`'${text}': the prefix length must be 0 to ${bits}`);
  }
  const { address } = written;
  // ::ffff:0:0/96 and longer lie inside the mapped range: the same rule as the IPv4 one.
  if (written.writtenFamily === 6 && address.family === 4) {
    if (prefix >= 96) return { ...address, prefix: prefix - 96 };
    return { family: 6, value: MAPPED_PREFIX | address.value, prefix };
  }
  return { ...address, prefix };
}

function parseIpv6OrV4Family(text: string): { address: Address; writtenFamily: 4 | 6 } | null {
  const address = parseAddress(text);
  if (!address) return null;
  return { address, writtenFamily: parseIpv4(text) !== null ? 4 : 6 };
}

/** Whether `address` lies in `range`; an address of the other family never does. */
export function cidrContains(range: Cidr, address: Address): boolean {
  const value = range.family === 6 && address.family === 4 ? MAPPED_PREFIX | address.value : address.value;
  const family = range.family === 6 && address.family === 4 ? 6 : address.family;
  if (family !== range.family) return false;
  const shift = BigInt(BITS[range.family] - range.prefix);
  return value >> shift === range.value >> shift;
}
