// file:// URIs round-trip: any absolute path, percent-encoded by our own encoder (every byte
// outside the unreserved set, or every byte at all, in either hex case) and by Node's
// pathToFileURL as an independent encoder, comes back as the same path.
import fc from 'fast-check';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { propertyParams } from '../testing/property-params.ts';
import { resolveTypedPath } from './typed-path.ts';

const context = { home: '/home/ana', cwd: '/srv' };

/** A path segment: any Unicode but '/' and NUL, never '.' or '..' (which resolve away). */
const segment = fc
  .string({ unit: 'grapheme', minLength: 1, maxLength: 12 })
  .filter((s) => !s.includes('/') && !s.includes('\0') && s !== '.' && s !== '..');
const absolutePath = fc.array(segment, { minLength: 1, maxLength: 5 }).map((parts) => `/${parts.join('/')}`);

const UNRESERVED = /^[A-Za-z0-9\-._~]$/;

/** Percent-encodes the UTF-8 bytes of each segment: all of them, or only what must be. */
function encodePath(absolute: string, everyByte: boolean, lowerHex: boolean): string {
  return absolute
    .split('/')
    .map((part) =>
      [...Buffer.from(part, 'utf8')]
        .map((b) => {
          const c = String.fromCharCode(b);
          if (!everyByte && b < 0x80 && UNRESERVED.test(c)) return c;
          const hex = b.toString(16).padStart(2, '0');
          return `%${lowerHex ? hex : hex.toUpperCase()}`;
        })
        .join(''),
    )
    .join('/');
}

describe('file:// round trips', () => {
  it('our encoding, with any host spelling of localhost', () => {
    fc.assert(
      fc.property(absolutePath, fc.boolean(), fc.boolean(), fc.constantFrom('', 'localhost', 'LOCALHOST'), (p, everyByte, lowerHex, host) => {
        expect(resolveTypedPath(`file://${host}${encodePath(p, everyByte, lowerHex)}`, context)).toBe(p);
      }),
      propertyParams(300),
    );
  });

  it("Node's pathToFileURL", () => {
    fc.assert(
      fc.property(absolutePath, (p) => {
        expect(resolveTypedPath(pathToFileURL(p).href, context)).toBe(p);
      }),
      propertyParams(300),
    );
  });

  it('~/ plus any relative path lands under the home', () => {
    fc.assert(
      fc.property(absolutePath, (p) => {
        expect(resolveTypedPath(`~${p}`, context)).toBe(`/home/ana${p}`);
      }),
      propertyParams(200),
    );
  });

  it('any other host is refused, naming it', () => {
    const host = fc.stringMatching(/^[a-z0-9][a-z0-9.-]{0,20}$/).filter((h) => h !== 'localhost');
    fc.assert(
      fc.property(host, absolutePath, (h, p) => {
        expect(() => resolveTypedPath(`file://${h}${encodePath(p, false, false)}`, context)).toThrow(`names the host '${h}'`);
      }),
      propertyParams(200),
    );
  });
});
