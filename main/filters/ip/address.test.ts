// The address matcher against a model that knows nothing of bigints: addresses as strings of
// '0'/'1' bits, a range as a bit prefix, IPv4-mapped addresses rewritten to IPv4 first.
import fc from 'fast-check';
import { BlockList } from 'node:net';
import { describe, expect, it } from 'vitest';
import { propertyParams, propertyTimeout } from '../../testing/property-params.ts';
import { cidrContains, parseAddress, parseCidr } from './address.ts';

const MAPPED_BITS = '0'.repeat(80) + '1'.repeat(16);

function bitsOf(bytes: readonly number[]): string {
  return bytes.map((b) => b.toString(2).padStart(8, '0')).join('');
}

/** The model: [family, bits] with mapped IPv6 folded to IPv4. */
function modelAddress(bytes: readonly number[]): [4 | 6, string] {
  const bits = bitsOf(bytes);
  if (bytes.length === 4) return [4, bits];
  return bits.startsWith(MAPPED_BITS) ? [4, bits.slice(96)] : [6, bits];
}

function modelContains(rangeBytes: readonly number[], prefix: number, addrBytes: readonly number[]): boolean {
  const rangeBits = bitsOf(rangeBytes).slice(0, prefix);
  if (rangeBytes.length === 4) {
    const [family, bits] = modelAddress(addrBytes);
    return family === 4 && bits.startsWith(rangeBits);
  }
  // A range written in IPv6 compares 128-bit forms: an IPv4 address is its mapped form there.
  const wide = addrBytes.length === 4 ? MAPPED_BITS + bitsOf(addrBytes) : bitsOf(addrBytes);
  return wide.startsWith(rangeBits);
}

const hex = (g: number, upper: boolean) => (upper ? g.toString(16).toUpperCase() : g.toString(16));

/** One of the spellings RFC 4291 allows: full, zero-padded, '::'-compressed, dotted IPv4 tail. */
function spell(bytes: readonly number[], style: number, upper: boolean): string {
  if (bytes.length === 4) return bytes.join('.');
  const groups = Array.from({ length: 8 }, (_, i) => bytes[2 * i]! * 256 + bytes[2 * i + 1]!);
  if (style === 1) return groups.map((g) => hex(g, upper).padStart(4, '0')).join(':');
  if (style === 2) return `${groups.slice(0, 6).map((g) => hex(g, upper)).join(':')}:${bytes.slice(12).join('.')}`;
  const text = groups.map((g) => hex(g, upper));
  // Compress the longest run of zero groups (any run, even of one, is legal).
  let best = [-1, 0];
  for (let i = 0; i < 8; i++) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > best[1]!) best = [i, j - i];
  }
  if (style === 0 || best[0]! < 0) return text.join(':');
  return `${text.slice(0, best[0]).join(':')}::${text.slice(best[0]! + best[1]!).join(':')}`;
}

const byte = fc.integer({ min: 0, max: 255 });
const ipv4 = fc.array(byte, { minLength: 4, maxLength: 4 });
// Mostly random, but often mapped, often near zero, so every branch of the parser is hit.
const ipv6 = fc.oneof(
  fc.array(byte, { minLength: 16, maxLength: 16 }),
  ipv4.map((v4) => [...Array<number>(10).fill(0), 255, 255, ...v4]),
  fc.array(fc.constantFrom(0, 0, 0, 1, 255), { minLength: 16, maxLength: 16 }),
);
const anyAddress = fc.oneof(ipv4, ipv6);

/** `base` with a few bits flipped, so that addresses land just inside and just outside ranges. */
const near = (base: readonly number[]) => fc.array(fc.nat(base.length * 8 - 1), { maxLength: 3 }).map((flips) => {
  const out = [...base];
  for (const bit of flips) out[bit >> 3]! ^= 0x80 >> (bit & 7);
  return out;
});

describe('parseAddress and cidrContains', () => {
  it('agree with the bit-string model for random ranges and addresses', () => {
    const cases = anyAddress.chain((range) => fc.tuple(
      fc.constant(range),
      fc.integer({ min: 0, max: range.length * 8 }),
      fc.oneof(near(range), anyAddress),
      fc.integer({ min: 0, max: 3 }),
      fc.boolean(),
    ));
    fc.assert(fc.property(cases, ([range, prefix, addr, style, upper]) => {
      const parsed = parseAddress(spell(addr, style, upper));
      const [family, bits] = modelAddress(addr);
      expect(parsed?.family).toBe(family);
      expect(parsed!.value.toString(2).padStart(bits.length, '0')).toBe(bits);
      const cidr = parseCidr(`${spell(range, style, upper)}/${prefix}`);
      expect(cidrContains(cidr, parsed!)).toBe(modelContains(range, prefix, addr));
    }), propertyParams(2000));
  }, propertyTimeout(60_000));

  it("agree with Node's BlockList on plain IPv4 and IPv6 subnets", () => {
    const cases = fc.oneof(ipv4, fc.array(byte, { minLength: 16, maxLength: 16 }).filter((b) => modelAddress(b)[0] === 6))
      .chain((range) => fc.tuple(fc.constant(range), fc.integer({ min: 0, max: range.length * 8 }), near(range)));
    fc.assert(fc.property(cases, ([range, prefix, addr]) => {
      const type = range.length === 4 ? 'ipv4' : 'ipv6';
      const list = new BlockList();
      list.addSubnet(spell(range, 3, false), prefix, type);
      const parsed = parseAddress(spell(addr, 3, false))!;
      if (parsed.family !== (type === 'ipv4' ? 4 : 6)) return; // a flip made it a mapped address
      expect(cidrContains(parseCidr(`${spell(range, 3, false)}/${prefix}`), parsed)).toBe(list.check(spell(addr, 3, false), type));
    }), propertyParams(1000));
  }, propertyTimeout(60_000));
});

describe('parseAddress', () => {
  it('reads the spellings a socket reports and rules use', () => {
    expect(parseAddress('127.0.0.1')).toEqual({ family: 4, value: 0x7f000001n });
    expect(parseAddress('::1')).toEqual({ family: 6, value: 1n });
    expect(parseAddress('::ffff:127.0.0.1')).toEqual({ family: 4, value: 0x7f000001n });
    expect(parseAddress('::FFFF:7f00:1')).toEqual({ family: 4, value: 0x7f000001n });
    expect(parseAddress('fe80::1%eth0')).toEqual({ family: 6, value: (0xfe80n << 112n) | 1n });
    expect(parseAddress('::')).toEqual({ family: 6, value: 0n });
  });

  it('refuses what is not an address', () => {
    for (const bad of ['', '1.2.3', '1.2.3.256', '1::2::3', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7', ':1::', '12345::', 'g::1', '::1.2.3', 'localhost']) {
      expect(parseAddress(bad), bad).toBeNull();
    }
  });
});

describe('parseCidr', () => {
  it('takes a single address as a full-length prefix and folds mapped ranges to IPv4', () => {
    expect(parseCidr('10.1.2.3')).toEqual({ family: 4, value: 0x0a010203n, prefix: 32 });
    expect(parseCidr('::ffff:10.0.0.0/104')).toEqual({ family: 4, value: 0x0a000000n, prefix: 8 });
    expect(parseCidr('2001:db8::/32')).toEqual({ family: 6, value: 0x20010db8n << 96n, prefix: 32 });
  });

  it('names the problem with a bad range', () => {
    expect(() => parseCidr('10.0.0.0/33')).toThrow("'10.0.0.0/33': the prefix length must be 0 to 32");
    expect(() => parseCidr('::/129')).toThrow('must be 0 to 128');
    expect(() => parseCidr('10.0.0.0/')).toThrow('must be 0 to 32');
    expect(() => parseCidr('example.com/8')).toThrow("'example.com' is not an IPv4 or IPv6 address");
  });
});
